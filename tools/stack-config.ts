// Reads a stack's configuration the way the Pulumi CLI hands it to the program: Pulumi.yaml's
// project-level defaults, overlaid by Pulumi.<stack>.yaml; keys fully qualified; every value a
// string (structured values as JSON). Used by the offline preview and by the tests.
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

export interface StackConfig {
    project: string;
    stack: string;
    /** `namespace:key` → value, as `pulumi.runtime.allConfig()` returns it under the CLI. */
    values: Record<string, string>;
    /**
     * Keys that hold `secure:` ciphertext, which cannot be decrypted without the stack's secrets
     * provider; `values` holds Pulumi.yaml's default for them, if any.
     */
    encryptedKeys: string[];
}

export class StackConfigError extends Error {
    constructor(file: string, message: string) {
        super(`${file}: ${message}`);
        this.name = "StackConfigError";
    }
}

interface ProjectFile {
    name: string;
    config?: Record<string, unknown>;
}

export function readProjectFile(root = PROJECT_ROOT): ProjectFile {
    const file = path.join(root, "Pulumi.yaml");
    const doc = parseYaml(fs.readFileSync(file, "utf8")) as ProjectFile;
    if (!doc || typeof doc.name !== "string") throw new StackConfigError("Pulumi.yaml", "has no project name");
    return doc;
}

/** Resolves a Pulumi.yaml `config:` key to `namespace:key` (a bare key belongs to the project), as the CLI does. */
function qualify(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/**
 * A stack file's key as the CLI reads it: `namespace:name`, the old `namespace:config:name`, or a
 * bare `name`, which belongs to the project (as `pulumi config set name` means).
 */
export function stackKey(project: string, key: string): string {
    const parts = key.split(":");
    if (parts.length === 3 && parts[1] === "config" && parts[0] !== "") return `${parts[0]}:${parts[2]}`;
    return qualify(project, key);
}

/** 'a'; 'a' and 'b'; 'a', 'b' and 'c': how the CLI lists keys. */
function listKeys(keys: string[]): string {
    const quoted = keys.map((k) => `'${k}'`);
    return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
}

function encode(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function isSecure(value: unknown): value is { secure: string } {
    return typeof value === "object" && value !== null && !Array.isArray(value)
        && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
}

/** A `secure:` value, or a structured value holding one (`pulumi config set --path --secret`). */
function holdsSecure(value: unknown): boolean {
    if (isSecure(value)) return true;
    if (typeof value !== "object" || value === null) return false;
    return Object.values(value).some(holdsSecure);
}

function isDeclaration(decl: unknown): decl is { type?: string; default?: unknown; value?: unknown } {
    return typeof decl === "object" && decl !== null && !Array.isArray(decl)
        && ("type" in decl || "default" in decl || "value" in decl || "description" in decl);
}

/** Project keys Pulumi.yaml declares without a default or value: every stack must set them. */
export function requiredKeys(project: ProjectFile): string[] {
    return Object.entries(project.config ?? {})
        .filter(([key, decl]) => !key.includes(":") && isDeclaration(decl) && decl.default == null && decl.value == null)
        .map(([key]) => key);
}

/** Project-level defaults: `key: {type, default, value}` declarations, or a plain value for other namespaces. */
export function projectDefaults(project: ProjectFile): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, decl] of Object.entries(project.config ?? {})) {
        if (isDeclaration(decl)) {
            const d = decl as { default?: unknown; value?: unknown };
            const v = d.value !== undefined ? d.value : d.default;
            if (v !== undefined) out[qualify(project.name, key)] = encode(v);
        } else if (decl !== undefined && decl !== null) {
            out[qualify(project.name, key)] = encode(decl);
        }
    }
    return out;
}

export function readStackConfig(stack: string, root = PROJECT_ROOT): StackConfig {
    const project = readProjectFile(root);
    const stackFileName = `Pulumi.${stack}.yaml`;
    const stackFile = path.join(root, stackFileName);
    if (!fs.existsSync(stackFile)) {
        const known = fs.readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]);
        throw new StackConfigError(stackFileName, `no such stack file (stacks here: ${known.join(", ") || "none"})`);
    }
    const doc = (parseYaml(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const values = projectDefaults(project);
    const encryptedKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        const full = stackKey(project.name, key);
        if (holdsSecure(value)) {
            // Not decryptable here: the program sees Pulumi.yaml's default for the key, if it has one.
            encryptedKeys.push(full);
            continue;
        }
        if (value === null || value === undefined) continue;
        values[full] = encode(value);
    }
    // The CLI refuses to run a stack that leaves a declared key without a default unset.
    const missing = requiredKeys(project).filter((k) => !(`${project.name}:${k}` in values) && !encryptedKeys.includes(`${project.name}:${k}`)).sort();
    if (missing.length > 0) {
        throw new StackConfigError(stackFileName, `Stack '${stack}' is missing configuration value${missing.length > 1 ? "s" : ""} ${listKeys(missing)} (set ${missing.length > 1 ? "them" : "it"} in ${stackFileName}, or declare a default in Pulumi.yaml)`);
    }
    return { project: project.name, stack, values, encryptedKeys };
}
