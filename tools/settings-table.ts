// Prints the README's settings table from Pulumi.yaml and the stack files, so the table cannot
// drift from what the program reads (test/readme.spec.ts compares the two).
//
//   npx ts-node --transpile-only tools/settings-table.ts
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT, readProjectFile } from "./stack-config";

interface Declaration { type?: string; default?: unknown; description?: string }

function show(value: unknown): string {
    if (value === undefined) return "";
    return "`" + (typeof value === "string" ? value : JSON.stringify(value)) + "`";
}

export function settingsTable(stacks = ["dev", "prod"]): string {
    const project = readProjectFile();
    const stackValues = stacks.map((stack) => {
        const doc = parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
        return doc.config ?? {};
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

if (require.main === module) console.log(settingsTable());
