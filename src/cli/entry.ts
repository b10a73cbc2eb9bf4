import { main } from "./main.ts";

const code = await main(process.argv.slice(2));
// Exit explicitly: a role's leftover handle must not keep a finished sidecar alive.
process.exit(code);
