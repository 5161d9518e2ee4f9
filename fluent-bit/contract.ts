/**
 * The contract between the FireLens Fluent Bit image in this directory and the
 * components that build and run it (LogPipeline, Service).
 *
 * Everything the image and the task definition must agree on lives here, so a
 * rename on one side fails `tsc` or the specs instead of silently breaking the
 * log pipeline at run time. The files themselves (`Dockerfile`, `extra.conf`,
 * `parsers.conf`) are checked against these values by
 * `test/fluent-bit-config.spec.ts`.
 */

/**
 * In-image path of the FireLens custom config. The Dockerfile COPYs
 * `extra.conf` here; the router's `firelensConfiguration` names it (see
 * {@link FIRELENS_OPTIONS}). Not `/fluent-bit/etc/fluent-bit.conf`: FireLens
 * mounts its generated config over that file.
 */
export const FIRELENS_CONFIG_PATH = "/fluent-bit/etc/backend/extra.conf";

/** In-image path of `parsers.conf`; `extra.conf` loads it with `Parsers_File`. */
export const PARSERS_PATH = "/fluent-bit/etc/backend/parsers.conf";

/** Build-context file (relative to `fluent-bit/`) → in-image path. */
export const IMAGE_FILES: Readonly<Record<string, string>> = {
    "extra.conf": FIRELENS_CONFIG_PATH,
    "parsers.conf": PARSERS_PATH,
};

/**
 * `firelensConfiguration.options` for the log router container. Fargate only
 * supports the `file` type: the config must be baked into the image.
 */
export const FIRELENS_OPTIONS = {
    "config-file-type": "file",
    "config-file-value": FIRELENS_CONFIG_PATH,
} as const;

/**
 * Environment variables `extra.conf` reads (`${NAME}`), keyed by meaning. The
 * router container must set exactly these; a spec fails if the config reads a
 * variable that is not listed here.
 */
export const ROUTER_ENV = {
    /** AWS region of the bucket and the error log group. */
    region: "AWS_REGION",
    /** Name (not ARN) of the S3 log bucket. */
    bucket: "LOG_BUCKET_NAME",
    /** Name (not ARN) of the CloudWatch Logs group for ERROR+ records. */
    errorLogGroup: "ERROR_LOG_GROUP_NAME",
} as const;

export type RouterEnvKey = keyof typeof ROUTER_ENV;

/** All variable names of {@link ROUTER_ENV}. */
export const ROUTER_ENV_NAMES: readonly string[] = Object.values(ROUTER_ENV);

/**
 * The router's `environment` list for a container definition, in a stable
 * order. Generic so Pulumi inputs can be passed as values.
 */
export function routerEnvironment<T>(values: Readonly<Record<RouterEnvKey, T>>): Array<{ name: string; value: T }> {
    return (Object.keys(ROUTER_ENV) as RouterEnvKey[]).map((key) => ({ name: ROUTER_ENV[key], value: values[key] }));
}

/**
 * Name of the application container. FireLens tags a container's stdout/stderr
 * records `<container name>-firelens-<task id>`, and `extra.conf` matches that
 * tag. The app's `logConfiguration` must be `awsfirelens` with no `Name`
 * option, otherwise FireLens generates an extra output of its own.
 */
export const APP_CONTAINER_NAME = "app";

/** Fluent Bit `Match` pattern of the app's original records (they go to S3). */
export const APP_LOG_TAG_PATTERN = `${APP_CONTAINER_NAME}-firelens-*`;

/** `rewrite_tag` copies ERROR+ records to `<this>.<original tag>`. */
export const ERROR_TAG_PREFIX = "backend.error";

/** Fluent Bit `Match` pattern of the ERROR+ copies (they go to CloudWatch Logs only). */
export const ERROR_TAG_PATTERN = `${ERROR_TAG_PREFIX}.*`;

/** Levels routed to CloudWatch Logs, compared case-insensitively and whole-value. */
export const ERROR_LEVELS: readonly string[] = ["ERROR", "CRITICAL", "FATAL"];

/** Key prefix of every object the router writes to the log bucket (no leading slash). */
export const S3_KEY_PREFIX = "logs/";

/** Prefix of the error log streams; the stream name is this plus the record tag. */
export const ERROR_STREAM_PREFIX = "fargate-";

/** Memory reservation (MiB) of the router container; `extra.conf` sizes its buffers against it. */
export const ROUTER_MEMORY_RESERVATION_MIB = 50;

/** Fluent Bit's shutdown grace (s); the router's `stopTimeout` must be larger (ECS default 30). */
export const ROUTER_GRACE_SECONDS = 25;

/**
 * Port of Fluent Bit's monitoring server (`HTTP_Server On` in extra.conf, loopback only). The
 * router's container health check asks its /api/v1/uptime path, the check AWS recommends for
 * FireLens (the older TCP check on FireLens' 8877 input reports false failures).
 */
export const ROUTER_MONITORING_PORT = 2020;

/**
 * Root of the router's on-disk buffers (filesystem chunks and the S3 store).
 * Must be writable: mount a volume here if the root filesystem is read-only.
 */
export const BUFFER_ROOT = "/tmp/fluent-bit";

// ---------------------------------------------------------------------------
// A small reader for Fluent Bit's classic configuration format
// ---------------------------------------------------------------------------

/** One `[NAME]` section; `name` is upper-cased, entry keys keep their spelling. */
export interface FluentBitSection {
    name: string;
    /** 1-based line of the `[NAME]` header. */
    line: number;
    entries: Array<[string, string]>;
}

export interface FluentBitConfig {
    sections: FluentBitSection[];
    /** Paths of root-level `@INCLUDE` commands, in order. */
    includes: string[];
    /** Root-level `@SET KEY=VALUE` commands, in order. */
    sets: Array<[string, string]>;
}

/**
 * Parses the classic (`.conf`) format the way Fluent Bit reads it: `[SECTION]`
 * headers at column 0, indented `key value` entries, whole-line `#` comments,
 * root-level `@INCLUDE` / `@SET`. It does not follow includes or expand
 * variables. Throws, naming the line, on what Fluent Bit would reject: an entry
 * outside a section or not indented, an entry without a value, an empty section.
 */
export function parseFluentBitConfig(text: string): FluentBitConfig {
    const config: FluentBitConfig = { sections: [], includes: [], sets: [] };
    let current: FluentBitSection | undefined;
    const closeSection = () => {
        if (current && current.entries.length === 0) {
            throw new Error(`line ${current.line}: section [${current.name}] has no entries`);
        }
        current = undefined;
    };

    text.split(/\r?\n/).forEach((raw, index) => {
        const lineNo = index + 1;
        const trimmed = raw.trim();
        if (trimmed === "" || trimmed.startsWith("#")) {
            return;
        }
        const indented = /^\s/.test(raw);
        if (!indented && trimmed.startsWith("@")) {
            closeSection();
            const [command, ...rest] = trimmed.split(/\s+/);
            const argument = rest.join(" ");
            if (command.toUpperCase() === "@INCLUDE" && argument) {
                config.includes.push(argument);
            } else if (command.toUpperCase() === "@SET" && /^[^=\s]+=/.test(argument)) {
                const eq = argument.indexOf("=");
                config.sets.push([argument.slice(0, eq), argument.slice(eq + 1)]);
            } else {
                throw new Error(`line ${lineNo}: unsupported command '${trimmed}'`);
            }
            return;
        }
        const header = /^\[([^\]\s]+)\]$/.exec(trimmed);
        if (!indented && header) {
            closeSection();
            current = { name: header[1].toUpperCase(), line: lineNo, entries: [] };
            config.sections.push(current);
            return;
        }
        if (!indented || !current) {
            throw new Error(`line ${lineNo}: entry '${trimmed}' must be indented inside a section`);
        }
        const kv = /^(\S+)\s+(.*)$/.exec(trimmed);
        if (!kv) {
            throw new Error(`line ${lineNo}: key '${trimmed}' has no value`);
        }
        current.entries.push([kv[1], kv[2].trim()]);
    });
    closeSection();
    return config;
}

/** All values of `key` in a section (Fluent Bit keys are case-insensitive). */
export function entryValues(section: FluentBitSection, key: string): string[] {
    const wanted = key.toLowerCase();
    return section.entries.filter(([k]) => k.toLowerCase() === wanted).map(([, v]) => v);
}

/** The single value of `key`, `undefined` if absent; throws if the key repeats. */
export function entryValue(section: FluentBitSection, key: string): string | undefined {
    const values = entryValues(section, key);
    if (values.length > 1) {
        throw new Error(`section [${section.name}] at line ${section.line} sets '${key}' ${values.length} times`);
    }
    return values[0];
}

/** Sections of a kind (`"OUTPUT"`), optionally only those whose `Name` is `plugin`. */
export function sectionsOf(config: FluentBitConfig, kind: string, plugin?: string): FluentBitSection[] {
    return config.sections.filter(
        (s) =>
            s.name === kind.toUpperCase() &&
            (plugin === undefined || (entryValue(s, "Name") ?? "").toLowerCase() === plugin.toLowerCase()),
    );
}

/** Names of the `${VAR}` environment variables a parsed config reads, sorted. */
export function referencedEnvVars(config: FluentBitConfig): string[] {
    const values = [
        ...config.sections.flatMap((s) => s.entries.map(([, v]) => v)),
        ...config.includes,
        ...config.sets.map(([, v]) => v),
    ];
    const names = new Set<string>();
    for (const value of values) {
        for (const m of value.matchAll(/\$\{([^}]*)\}/g)) {
            names.add(m[1]);
        }
    }
    return [...names].sort();
}

/**
 * Fluent Bit's tag matching for `Match`: the whole tag must match, `*` matches
 * any run of characters (dots included), everything else is literal.
 */
export function tagMatches(pattern: string, tag: string): boolean {
    const source = pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${source}$`, "s").test(tag);
}
