// Prints the README's settings table from Pulumi.yaml and the stack files, so the table cannot
// drift from what the program reads (test/readme.spec.ts compares the two).
//
//   npx ts-node --transpile-only tools/settings-table.ts           # print it
//   npx ts-node --transpile-only tools/settings-table.ts --write   # replace it in README.md
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT, readProjectFile, stackKey } from "./stack-config";

interface Declaration { type?: string; default?: unknown; description?: string }

function show(value: unknown): string {
    if (value === undefined) return "";
    return "`" + (typeof value === "string" ? value : JSON.stringify(value)) + "`";
}

export function settingsTable(stacks = ["dev", "prod"]): string {
    const project = readProjectFile();
    const stackValues = stacks.map((stack) => {
        const doc = parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
        // Keyed as the CLI reads them (`backend-infra:key`, a bare `key`, or `backend-infra:config:key`).
        return Object.fromEntries(Object.entries(doc.config ?? {}).map(([k, v]) => [stackKey(project.name, k), v]));
    });
    const header = `| setting (\`${project.name}:\`) | type | default | ${stacks.join(" | ")} | what it does |`;
    const rule = `|---|---|---|${stacks.map(() => "---|").join("")}---|`;
    const rows = Object.entries(project.config ?? {})
        .filter(([key]) => !key.includes(":"))
        .map(([key, decl]) => {
            const d = decl as Declaration;
            const perStack = stackValues.map((values) => show(values[`${project.name}:${key}`]));
            return `| \`${key}\` | ${d.type ?? ""} | ${show(d.default)} | ${perStack.join(" | ")} | ${(d.description ?? "").replace(/\|/g, "\\|")} |`;
        });
    return [header, rule, ...rows].join("\n");
}

const START = "<!-- settings-table:start";
const END = "<!-- settings-table:end -->";

/** The README's table (between the markers), or undefined when the markers are missing. */
export function readmeTable(readme: string): string | undefined {
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    if (start < 0 || end < start) return undefined;
    return readme.slice(readme.indexOf("\n", start) + 1, end).trim();
}

function writeReadmeTable(): void {
    const file = path.join(PROJECT_ROOT, "README.md");
    const readme = fs.readFileSync(file, "utf8");
    const current = readmeTable(readme);
    if (current === undefined) throw new Error(`README.md has no ${START} … ${END} markers`);
    const at = readme.indexOf(START);
    const bodyStart = readme.indexOf("\n", at) + 1;
    fs.writeFileSync(file, readme.slice(0, bodyStart) + settingsTable() + "\n" + readme.slice(readme.indexOf(END)));
}

if (require.main === module) {
    if (process.argv.includes("--write")) writeReadmeTable();
    else console.log(settingsTable());
}
