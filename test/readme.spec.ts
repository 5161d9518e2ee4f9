import { strict as assert } from "assert";
import * as fs from "fs";
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

    it("gives the test command CI runs", () => {
        assert.match(readme, /npm test/);
        assert.match(fs.readFileSync(".ci/run", "utf8"), /npm test/);
    });
});
