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
    /** Keys whose values are secrets (their plaintext is known). */
    secretKeys: string[];
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
 * Parses a stack file's key as the CLI does: `namespace:name`, or the old `namespace:config:name`;
 * anything else (a bare `name`) is refused, so a file the CLI would reject does not pass offline.
 */
function stackKey(file: string, key: string): string {
    const parts = key.split(":");
    if (parts.length === 2) return key;
    if (parts.length === 3 && parts[1] === "config" && parts[0] !== "") return `${parts[0]}:${parts[2]}`;
    throw new StackConfigError(file, `could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`);
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

/** Project-level defaults: `key: {type, default, value}` declarations, or a plain value for other namespaces. */
export function projectDefaults(project: ProjectFile): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, decl] of Object.entries(project.config ?? {})) {
        const isDeclaration = typeof decl === "object" && decl !== null && !Array.isArray(decl)
            && ("type" in decl || "default" in decl || "value" in decl || "description" in decl);
        if (isDeclaration) {
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
    const secretKeys: string[] = [];
    const encryptedKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        const full = stackKey(stackFileName, key);
        if (holdsSecure(value)) {
            // Not decryptable here: the program sees Pulumi.yaml's default for the key, if it has one.
            encryptedKeys.push(full);
            continue;
        }
        if (value === null || value === undefined) continue;
        values[full] = encode(value);
    }
    return { project: project.name, stack, values, secretKeys, encryptedKeys };
}
