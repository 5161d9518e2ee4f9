import { strict as assert } from "assert";
import * as fs from "fs";
import { ROUTER_HEALTH_CHECK } from "../components/service-task";
import { parseArgs as parsePreviewArgs } from "../tools/offline-preview";
import { parseArgs as parseCheckArgs } from "../tools/policy-check";
import { readmeTable, settingsTable } from "../tools/settings-table";

const readme = fs.readFileSync("README.md", "utf8");
const scripts: Record<string, string> = JSON.parse(fs.readFileSync("package.json", "utf8")).scripts;

describe("README", () => {
    it("shows the settings table as Pulumi.yaml and the stack files define it", () => {
        const shown = readmeTable(readme);
        assert.ok(shown !== undefined, "settings table markers missing");
        assert.equal(shown, settingsTable(), "regenerate with: npx ts-node --transpile-only tools/settings-table.ts --write");
    });

    it("names only npm scripts that package.json defines", () => {
        const used = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
        assert.ok(used.length > 0);
        for (const name of used) assert.ok(scripts[name], `README runs "npm run ${name}", which package.json does not define`);
    });

    it("runs the offline tools only with arguments they accept, for stacks that exist", () => {
        const stacks = fs.readdirSync(".").map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter(Boolean);
        const lines = [...readme.matchAll(/npm run (preview:offline|policy:check) -- ([^`#\n]*)/g)];
        assert.ok(lines.some(([, tool]) => tool === "preview:offline") && lines.some(([, tool]) => tool === "policy:check"));
        for (const [text, tool, rest] of lines) {
            // Optional parts in brackets are usage, not arguments.
            const args = rest.replace(/\[[^\]]*\]/g, "").trim().split(/\s+/).filter(Boolean);
            if (tool === "preview:offline") {
                const opts = parsePreviewArgs(args);
                assert.ok(stacks.includes(opts.stack), `${text}: no Pulumi.${opts.stack}.yaml`);
            } else {
                assert.doesNotThrow(() => parseCheckArgs(args), text);
            }
        }
    });

    it("reads only stack outputs that index.ts exports", () => {
        const exported = new Set([...fs.readFileSync("index.ts", "utf8").matchAll(/^export const (\w+)/gm)].map((m) => m[1]));
        const named = [...readme.matchAll(/stack output (\w+)/g)].map((m) => m[1]);
        assert.ok(named.length > 0);
        for (const name of named) assert.ok(exported.has(name), `README reads output ${name}, which index.ts does not export`);
    });

    it("describes the router health check the task definition uses (Fluent Bit's uptime endpoint, not FireLens' TCP input)", () => {
        const url = /http:\/\/127\.0\.0\.1:\d+\/\S+/.exec(ROUTER_HEALTH_CHECK.command.join(" "))?.[0];
        assert.ok(url, `no URL in ${ROUTER_HEALTH_CHECK.command.join(" ")}`);
        assert.ok(readme.includes(url.replace("http://", "")), `README does not name ${url}`);
        assert.doesNotMatch(readme, /8877/);
    });

    it("gives the test command CI runs", () => {
        assert.match(readme, /npm test/);
        assert.match(fs.readFileSync(".ci/run", "utf8"), /npm test/);
    });
});
