// @fastify/http-proxy as the reference Node proxy: node bench/proxy/fastify-proxy.ts PORT UPSTREAM_PORT
import proxy from "@fastify/http-proxy";
import Fastify from "fastify";

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const app = Fastify({ logger: false });
await app.register(proxy, { upstream: `http://127.0.0.1:${upstreamPort}` });
await app.listen({ port: port!, host: "127.0.0.1" });
process.stdout.write("ready\n");
