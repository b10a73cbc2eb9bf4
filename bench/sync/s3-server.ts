/**
 * s3rver in a process of its own for bench:sync: `node --openssl-legacy-provider s3-server.ts
 * DIR BUCKET…` prints the port and serves until killed. s3rver encrypts listing continuation
 * tokens with DES, which Node's OpenSSL 3 offers only with the legacy provider, so a listing of
 * more than 1000 keys needs that flag.
 */
import S3rver from "s3rver";

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory: directory!,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
const { port } = await server.run();
process.stdout.write(`${port}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
