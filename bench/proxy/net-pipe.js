// The least a Node proxy can do, for the benchmark only: each client connection piped to its own
// upstream connection with node:net, no HTTP parsing, no headers added, nothing else. Its latency
// and CPU over the app served directly are the floor of Node itself (the event loop, libuv and
// net streams), below the floor of node:http (bench/proxy/node-proxy.js).
import { connect, createServer } from "node:net";

const [port, upstreamPort] = process.argv.slice(2).map(Number);

const server = createServer({ noDelay: true }, (client) => {
  const upstream = connect({ host: "127.0.0.1", port: upstreamPort, noDelay: true });
  client.pipe(upstream).pipe(client);
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
  client.on("close", () => upstream.destroy());
  upstream.on("close", () => client.destroy());
});
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
