// Offline checks of the FireLens Fluent Bit image (fluent-bit/). No Fluent Bit
// binary or Docker engine exists here, so the files are parsed and the routing
// contract is asserted on them, including a small simulation of the pipeline.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    APP_LOG_TAG_PATTERN,
    BUFFER_ROOT,
    ERROR_LEVELS,
    ERROR_STREAM_PREFIX,
    ERROR_TAG_PATTERN,
    ERROR_TAG_PREFIX,
    FIRELENS_CONFIG_PATH,
    FIRELENS_OPTIONS,
    FluentBitConfig,
    FluentBitSection,
    IMAGE_FILES,
    PARSERS_PATH,
    ROUTER_ENV,
    ROUTER_ENV_NAMES,
    ROUTER_GRACE_SECONDS,
    ROUTER_MEMORY_RESERVATION_MIB,
    ROUTER_MONITORING_PORT,
    S3_KEY_PREFIX,
    entryValue,
    entryValues,
    parseFluentBitConfig,
    referencedEnvVars,
    routerEnvironment,
    sectionsOf,
    tagMatches,
} from "../fluent-bit/contract";

const FLUENT_BIT_DIR = path.join(__dirname, "..", "fluent-bit");
const readImageFile = (name: string) => fs.readFileSync(path.join(FLUENT_BIT_DIR, name), "utf8");

const extra = parseFluentBitConfig(readImageFile("extra.conf"));
const parsers = parseFluentBitConfig(readImageFile("parsers.conf"));

// A FireLens tag of the app container: `<container>-firelens-<task id>`.
const TASK_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const APP_TAG = `app-firelens-${TASK_ID}`;

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

function only(sections: FluentBitSection[], what: string): FluentBitSection {
    assert.equal(sections.length, 1, `expected exactly one ${what}, found ${sections.length}`);
    return sections[0];
}

function required(section: FluentBitSection, key: string): string {
    const value = entryValue(section, key);
    assert.ok(value !== undefined, `[${section.name}] at line ${section.line} must set ${key}`);
    return value;
}

/** Fluent Bit booleans: on/true/yes (case-insensitive) are true. */
function isOn(value: string | undefined): boolean {
    return value !== undefined && ["on", "true", "yes"].includes(value.toLowerCase());
}

/** Size in bytes; K/M/G are read as binary units, an upper bound for Fluent Bit's. */
function sizeToBytes(value: string): number {
    const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)B?$/i.exec(value.trim());
    assert.ok(m, `not a size: '${value}'`);
    const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as "" | "K" | "M" | "G"];
    return Number(m[1]) * unit;
}

/** Fluent Bit time values: a number with an optional s/m/h/d unit. */
function timeToSeconds(value: string): number {
    const m = /^(\d+)\s*([smhd]?)$/i.exec(value.trim());
    assert.ok(m, `not a time: '${value}'`);
    const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2].toLowerCase() as "" | "s" | "m" | "h" | "d"];
    return Number(m[1]) * unit;
}

/**
 * Compiles a rewrite_tag regex for JavaScript. Fluent Bit uses Onigmo with Ruby
 * syntax, where ^ and $ are line anchors: that is JavaScript's "m" flag. Syntax
 * whose meaning differs between the engines is refused instead of guessed.
 */
function onigmoToJs(pattern: string): RegExp {
    assert.ok(
        !/\(\?[imx-]+[:)]|\\[AzZhHGK]|[*+?}][+]/.test(pattern),
        `pattern uses Onigmo-only syntax, translate it first: ${pattern}`,
    );
    return new RegExp(pattern, "m");
}

interface RewriteRule {
    key: string;
    regex: string;
    newTag: string;
    keep: boolean;
}

function parseRule(rule: string): RewriteRule {
    const parts = rule.trim().split(/\s+/);
    assert.equal(parts.length, 4, `rule must be 'KEY REGEX NEW_TAG KEEP': ${rule}`);
    const [key, regex, newTag, keep] = parts;
    assert.ok(/^(true|false)$/i.test(keep), `KEEP must be true or false: ${rule}`);
    return { key, regex, newTag, keep: keep.toLowerCase() === "true" };
}

/** strptime format → anchored JS regex, for the conversions Time_Format uses. */
function timeFormatToRegExp(format: string): RegExp {
    const pieces: Record<string, string> = {
        Y: "\\d{4}",
        m: "(?:0[1-9]|1[0-2])",
        d: "(?:0[1-9]|[12]\\d|3[01])",
        H: "(?:[01]\\d|2[0-3])",
        M: "[0-5]\\d",
        S: "(?:[0-5]\\d|60)",
        L: "\\d+",
        z: "(?:Z|[+-]\\d{2}(?::?\\d{2})?)",
        "%": "%",
    };
    let source = "";
    for (let i = 0; i < format.length; i++) {
        if (format[i] !== "%") {
            source += format[i].replace(/[.+?^${}()|[\]\\*]/g, "\\$&");
            continue;
        }
        const conversion = format[++i];
        assert.ok(conversion in pieces, `conversion %${conversion} not modelled`);
        source += pieces[conversion];
    }
    return new RegExp(`^${source}$`);
}

// ---------------------------------------------------------------------------
// a small model of the Fluent Bit pipeline, read from the parsed files
// ---------------------------------------------------------------------------

type LogRecord = Record<string, unknown>;
interface LogEvent {
    tag: string;
    record: LogRecord;
}
interface Delivery extends LogEvent {
    output: string;
}

function runParser(name: string, text: string): LogRecord | undefined {
    const parser = only(
        sectionsOf(parsers, "PARSER").filter((p) => entryValue(p, "Name") === name),
        `[PARSER] named ${name}`,
    );
    assert.equal(required(parser, "Format").toLowerCase(), "json", "the model only knows json parsers");
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return undefined;
    }
    const record = { ...(parsed as LogRecord) };
    const timeKey = entryValue(parser, "Time_Key");
    if (timeKey && !isOn(entryValue(parser, "Time_Keep"))) {
        delete record[timeKey];
    }
    return record;
}

/** Applies one filter to an event; `emitted` receives records re-emitted at the pipeline start. */
function applyFilter(filter: FluentBitSection, event: LogEvent, emitted: LogEvent[]): LogEvent[] {
    const plugin = required(filter, "Name").toLowerCase();
    if (plugin === "parser") {
        const key = required(filter, "Key_Name");
        const raw = event.record[key];
        if (typeof raw !== "string") {
            return [event];
        }
        for (const parserName of entryValues(filter, "Parser")) {
            const parsed = runParser(parserName, raw);
            if (parsed) {
                const base: LogRecord = isOn(entryValue(filter, "Reserve_Data")) ? { ...event.record } : {};
                if (isOn(entryValue(filter, "Preserve_Key"))) {
                    base[key] = raw;
                } else {
                    delete base[key];
                }
                return [{ tag: event.tag, record: { ...base, ...parsed } }];
            }
        }
        return [event]; // no parser matched: the record passes unchanged
    }
    if (plugin === "rewrite_tag") {
        for (const rule of entryValues(filter, "Rule").map(parseRule)) {
            assert.ok(/^\$\w+$/.test(rule.key), `the model only reads top-level keys: ${rule.key}`);
            const value = event.record[rule.key.slice(1)];
            if (typeof value === "string" && onigmoToJs(rule.regex).test(value)) {
                const tag = rule.newTag.replace(/\$TAG(?!\[)/g, event.tag);
                assert.ok(!tag.includes("$"), `placeholder not modelled in ${rule.newTag}`);
                emitted.push({ tag, record: { ...event.record } });
                return rule.keep ? [event] : [];
            }
        }
        return [event];
    }
    throw new Error(`the routing model does not know filter '${plugin}'; extend it with the config`);
}

/** Every output delivery one incoming record causes, re-emitted copies included. */
function route(config: FluentBitConfig, input: LogEvent): Delivery[] {
    const deliveries: Delivery[] = [];
    const pending: LogEvent[] = [input];
    for (let rounds = 0; pending.length > 0; rounds++) {
        assert.ok(rounds < 10, "records keep re-emitting each other");
        let events = [pending.shift() as LogEvent];
        for (const filter of sectionsOf(config, "FILTER")) {
            const match = required(filter, "Match");
            events = events.flatMap((e) => (tagMatches(match, e.tag) ? applyFilter(filter, e, pending) : [e]));
        }
        for (const event of events) {
            for (const output of sectionsOf(config, "OUTPUT")) {
                if (tagMatches(required(output, "Match"), event.tag)) {
                    deliveries.push({ ...event, output: required(output, "Name") });
                }
            }
        }
    }
    return deliveries;
}

/** A record as FireLens' forward input hands it over: the raw line in "log", plus metadata. */
function firelensRecord(line: string): LogEvent {
    return {
        tag: APP_TAG,
        record: {
            container_id: "5c1a7e0f3b2d",
            container_name: "/ecs-backend-1-app-8ac6e1",
            source: "stdout",
            log: line,
            ecs_cluster: "backend-dev",
            ecs_task_arn: `arn:aws:ecs:eu-west-1:123456789012:task/backend-dev/${TASK_ID}`,
            ecs_task_definition: "backend-dev:7",
        },
    };
}

function appLine(level: unknown, message: string): string {
    return JSON.stringify({ time: "2026-01-22T10:15:30.123Z", level, message, request_id: "r-1", status: 500 });
}

function outputsReached(deliveries: Delivery[]): string[] {
    return deliveries.map((d) => d.output).sort();
}

// ---------------------------------------------------------------------------
// specs
// ---------------------------------------------------------------------------

describe("fluent-bit contract helpers", () => {
    it("parses sections, entries and root-level commands", () => {
        const config = parseFluentBitConfig(
            "@SET env=dev\n@INCLUDE other.conf\n# comment\n[SERVICE]\n    # indented comment\n    Flush 1\n\n[FILTER]\n    Name grep\n    Regex log  a b\n",
        );
        assert.deepEqual(config.sets, [["env", "dev"]]);
        assert.deepEqual(config.includes, ["other.conf"]);
        assert.deepEqual(
            config.sections.map((s) => [s.name, s.entries]),
            [
                ["SERVICE", [["Flush", "1"]]],
                ["FILTER", [["Name", "grep"], ["Regex", "log  a b"]]],
            ],
        );
    });

    it("rejects what Fluent Bit rejects, naming the line", () => {
        assert.throws(() => parseFluentBitConfig("[OUTPUT]\nName s3\n"), /line 2: .*indented/);
        assert.throws(() => parseFluentBitConfig("    Name s3\n"), /line 1: .*inside a section/);
        assert.throws(() => parseFluentBitConfig("[OUTPUT]\n    Name\n"), /line 2: key 'Name' has no value/);
        assert.throws(() => parseFluentBitConfig("[OUTPUT]\n[FILTER]\n    Name grep\n"), /line 1: section \[OUTPUT\] has no entries/);
    });

    it("reads keys case-insensitively and refuses a repeated single-valued key", () => {
        const [section] = parseFluentBitConfig("[OUTPUT]\n    name s3\n    Match a\n    MATCH b\n").sections;
        assert.equal(entryValue(section, "Name"), "s3");
        assert.deepEqual(entryValues(section, "match"), ["a", "b"]);
        assert.throws(() => entryValue(section, "Match"), /sets 'Match' 2 times/);
    });

    it("matches tags the way Fluent Bit's Match does", () => {
        assert.ok(tagMatches(APP_LOG_TAG_PATTERN, APP_TAG));
        assert.ok(!tagMatches(APP_LOG_TAG_PATTERN, `${ERROR_TAG_PREFIX}.${APP_TAG}`), "Match is anchored at the start");
        assert.ok(!tagMatches(APP_LOG_TAG_PATTERN, "sidecar-firelens-1"));
        assert.ok(tagMatches(ERROR_TAG_PATTERN, `${ERROR_TAG_PREFIX}.${APP_TAG}`));
        assert.ok(!tagMatches(ERROR_TAG_PATTERN, "backend.errors.x"), "a dot is literal");
    });

    it("builds the router environment from the contract's names", () => {
        const env = routerEnvironment({ region: "eu-west-1", bucket: "logs-dev", errorLogGroup: "/ecs/backend/errors-dev" });
        assert.deepEqual(env, [
            { name: "AWS_REGION", value: "eu-west-1" },
            { name: "LOG_BUCKET_NAME", value: "logs-dev" },
            { name: "ERROR_LOG_GROUP_NAME", value: "/ecs/backend/errors-dev" },
        ]);
        assert.equal(new Set(ROUTER_ENV_NAMES).size, ROUTER_ENV_NAMES.length, "no variable is listed twice");
        for (const name of ROUTER_ENV_NAMES) assert.match(name, /^[A-Z_][A-Z0-9_]*$/, `${name} is a portable environment variable name`);
    });
});

describe("fluent-bit/extra.conf (FireLens custom config)", () => {
    const service = () => only(sectionsOf(extra, "SERVICE"), "[SERVICE]");
    const parserFilter = () => only(sectionsOf(extra, "FILTER", "parser"), "parser filter");
    const rewriteFilter = () => only(sectionsOf(extra, "FILTER", "rewrite_tag"), "rewrite_tag filter");
    const cloudwatch = () => only(sectionsOf(extra, "OUTPUT", "cloudwatch_logs"), "cloudwatch_logs output");
    const s3 = () => only(sectionsOf(extra, "OUTPUT", "s3"), "s3 output");
    const levelRule = () => parseRule(only_(entryValues(rewriteFilter(), "Rule"), "Rule"));
    function only_<T>(values: T[], what: string): T {
        assert.equal(values.length, 1, `expected exactly one ${what}, found ${values.length}`);
        return values[0];
    }

    it("declares no INPUT: FireLens generates the inputs and @INCLUDEs this file", () => {
        assert.deepEqual(sectionsOf(extra, "INPUT"), []);
        assert.deepEqual(extra.includes, [], "no nested @INCLUDE: only this file is baked in at a known path");
    });

    it("loads the parsers from the in-image path and flushes every second", () => {
        assert.equal(required(service(), "Parsers_File"), PARSERS_PATH);
        assert.equal(Number(required(service(), "Flush")), 1);
        assert.equal(Number(required(service(), "Grace")), ROUTER_GRACE_SECONDS);
    });

    it("serves the monitoring API the router's health check asks, on loopback only", () => {
        assert.equal(required(service(), "HTTP_Server"), "On");
        assert.equal(required(service(), "HTTP_Listen"), "127.0.0.1");
        assert.equal(Number(required(service(), "HTTP_Port")), ROUTER_MONITORING_PORT);
    });

    it("reads only environment variables the task definition provides, and uses all of them", () => {
        assert.deepEqual(referencedEnvVars(extra), [...ROUTER_ENV_NAMES].sort());
        assert.deepEqual(referencedEnvVars(parsers), []);
    });

    it("parses the log key with a parser defined in parsers.conf, keeping non-JSON lines", () => {
        const filter = parserFilter();
        assert.equal(required(filter, "Match"), APP_LOG_TAG_PATTERN);
        assert.equal(required(filter, "Key_Name"), "log");
        assert.ok(isOn(entryValue(filter, "Reserve_Data")), "Reserve_Data On keeps container and ECS fields");
        assert.ok(!isOn(entryValue(filter, "Unescape_Key")), "Unescape_Key would rewrite escaped quotes in JSON");
        for (const name of entryValues(filter, "Parser")) {
            assert.equal(sectionsOf(parsers, "PARSER").filter((p) => entryValue(p, "Name") === name).length, 1, `parser ${name}`);
        }
        const order = sectionsOf(extra, "FILTER").map((f) => required(f, "Name"));
        assert.ok(order.indexOf("parser") < order.indexOf("rewrite_tag"), "level must be parsed before it is tested");
    });

    it("copies ERROR+ records to the error tag on $level and keeps the original", () => {
        const filter = rewriteFilter();
        assert.equal(required(filter, "Match"), APP_LOG_TAG_PATTERN);
        const rule = levelRule();
        assert.equal(rule.key, "$level", "the rule must test the level key, not the message");
        assert.equal(rule.keep, true, "KEEP true: the original record must continue to S3");
        assert.equal(rule.newTag, `${ERROR_TAG_PREFIX}.$TAG`, "the copy's tag keeps the task's tag for its stream name");
        assert.equal((entryValue(filter, "Emitter_Storage.type") ?? "memory").toLowerCase(), "filesystem");
    });

    it("matches exactly ERROR, CRITICAL and FATAL in any letter case", () => {
        const regex = onigmoToJs(levelRule().regex);
        for (const level of [...ERROR_LEVELS, ...ERROR_LEVELS.map((l) => l.toLowerCase()), "Error", "Critical", "fAtAl"]) {
            assert.ok(regex.test(level), `${level} must match`);
        }
        for (const level of ["INFO", "info", "WARNING", "WARN", "DEBUG", "NOTICE", "ERRORS", "ERR", "", " ERROR", "ERROR ", "xERROR", "INFO error", "CRITICALLY"]) {
            assert.ok(!regex.test(level), `'${level}' must not match`);
        }
    });

    it("sends only the error tag to CloudWatch Logs and only the app's originals to S3", () => {
        const copyTag = `${ERROR_TAG_PREFIX}.${APP_TAG}`;
        assert.equal(sectionsOf(extra, "OUTPUT").length, 2, "exactly the cloudwatch_logs and s3 outputs");
        assert.equal(required(cloudwatch(), "Match"), ERROR_TAG_PATTERN);
        assert.equal(required(s3(), "Match"), APP_LOG_TAG_PATTERN);
        assert.ok(tagMatches(required(cloudwatch(), "Match"), copyTag));
        assert.ok(!tagMatches(required(cloudwatch(), "Match"), APP_TAG));
        assert.ok(tagMatches(required(s3(), "Match"), APP_TAG));
        assert.ok(!tagMatches(required(s3(), "Match"), copyTag), "the error copy must not reach S3 a second time");
    });

    it("writes errors to the stack's group with the fargate- stream prefix, never creating the group", () => {
        const output = cloudwatch();
        assert.equal(required(output, "region"), `\${${ROUTER_ENV.region}}`);
        assert.equal(required(output, "log_group_name"), `\${${ROUTER_ENV.errorLogGroup}}`);
        assert.equal(required(output, "log_stream_prefix"), ERROR_STREAM_PREFIX);
        assert.equal(ERROR_STREAM_PREFIX, "fargate-");
        assert.equal(required(output, "auto_create_group").toLowerCase(), "off");
        assert.equal(entryValue(output, "log_stream_name"), undefined, "log_stream_name would override the prefix");
        assert.ok(Number(required(output, "Retry_Limit")) > 0, "failed flushes are retried");
        assert.ok(sizeToBytes(required(output, "storage.total_limit_size")) > 0, "the on-disk queue is bounded");

        const stream = `${ERROR_STREAM_PREFIX}${ERROR_TAG_PREFIX}.${APP_TAG}`;
        assert.ok(stream.length <= 512 && !/[:*]/.test(stream), `invalid log stream name ${stream}`);
    });

    it("uploads gzip objects under logs/year=/month=/day=/hour= with unique names within a minute", () => {
        const output = s3();
        assert.equal(required(output, "bucket"), `\${${ROUTER_ENV.bucket}}`);
        assert.equal(required(output, "region"), `\${${ROUTER_ENV.region}}`);
        assert.equal(required(output, "compression"), "gzip");
        assert.ok(isOn(required(output, "use_put_object")), "use_put_object On");
        const keyFormat = required(output, "s3_key_format");
        assert.ok(keyFormat.startsWith(`/${S3_KEY_PREFIX}year=%Y/month=%m/day=%d/hour=%H/`), keyFormat);
        assert.ok(keyFormat.includes("$UUID"), "PutObject needs $UUID for unique names and the .gz suffix");
        assert.ok(keyFormat.endsWith(".gz"));
        assert.ok(!keyFormat.slice(1).includes("//"));
        assert.ok(timeToSeconds(required(output, "upload_timeout")) <= 60, "objects must appear within a minute");
        const fileSize = sizeToBytes(required(output, "total_file_size"));
        assert.ok(fileSize >= 1024 ** 2 && fileSize <= 50 * 1024 ** 2, "total_file_size between 1M and 50M");
        assert.ok(Number(required(output, "Retry_Limit")) > 0, "failed uploads are retried");
    });

    it("keeps every buffer on disk under the buffer root, with bounded sizes", () => {
        assert.ok(required(service(), "storage.path").startsWith(`${BUFFER_ROOT}/`));
        assert.ok(required(s3(), "store_dir").startsWith(`${BUFFER_ROOT}/`));
        assert.ok(sizeToBytes(required(s3(), "store_dir_limit_size")) > 0, "store_dir_limit_size 0 means unlimited");
        assert.equal(entryValue(s3(), "storage.total_limit_size"), undefined, "s3 ignores it; store_dir_limit_size applies");
    });

    it("bounds memory within the router's reservation", () => {
        // FireLens gives its forward input half the reservation; what this file
        // adds: filesystem chunks up in memory (~2 MiB each), the backlog
        // reader, and one PutObject body plus its gzip output.
        const mib = 1024 ** 2;
        const chunksUp = Number(required(service(), "storage.max_chunks_up"));
        assert.ok(Number.isInteger(chunksUp) && chunksUp > 0);
        const backlog = sizeToBytes(required(service(), "storage.backlog.mem_limit"));
        const putObject = 2 * sizeToBytes(required(s3(), "total_file_size"));
        const total = ROUTER_MEMORY_RESERVATION_MIB / 2 + (chunksUp * 2 * mib + backlog + putObject) / mib;
        assert.ok(total <= ROUTER_MEMORY_RESERVATION_MIB, `buffers need ${total} MiB of ${ROUTER_MEMORY_RESERVATION_MIB}`);
    });
});

describe("fluent-bit/parsers.conf", () => {
    const appJson = () => {
        const filter = only(sectionsOf(extra, "FILTER", "parser"), "parser filter");
        const name = required(filter, "Parser");
        return only(sectionsOf(parsers, "PARSER").filter((p) => entryValue(p, "Name") === name), `[PARSER] ${name}`);
    };

    it("defines the JSON parser the filter names, keeping the time key", () => {
        const parser = appJson();
        assert.equal(required(parser, "Format"), "json");
        assert.equal(required(parser, "Time_Key"), "time");
        assert.ok(isOn(entryValue(parser, "Time_Keep")), "Time_Keep On");
    });

    it("has a Time_Format that reads the contract's timestamps with milliseconds and a zone", () => {
        const format = timeFormatToRegExp(required(appJson(), "Time_Format"));
        for (const ts of ["2026-01-22T10:15:30.123Z", "2026-01-22T10:15:30.123+09:00", "2026-01-22T23:59:59.999-05:30"]) {
            assert.ok(format.test(ts), `${ts} must parse`);
        }
        for (const ts of ["2026-01-22 10:15:30.123Z", "2026-01-22T10:15:30.123", "22/01/2026T10:15:30.123Z"]) {
            assert.ok(!format.test(ts), `${ts} must not parse`);
        }
    });
});

describe("fluent-bit/Dockerfile", () => {
    const instructions = readImageFile("Dockerfile")
        .replace(/\\\r?\n/g, " ")
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"))
        .map((l) => {
            const [op, ...args] = l.split(/\s+/);
            return { op: op.toUpperCase(), args };
        });

    it("builds FROM AWS for Fluent Bit at a pinned numeric version, for any platform", () => {
        const froms = instructions.filter((i) => i.op === "FROM");
        assert.equal(froms.length, 1);
        assert.ok(!froms[0].args.some((a) => a.startsWith("--platform")), "no --platform: the base tag is multi-arch");
        const ref = froms[0].args[0];
        const colon = ref.lastIndexOf(":");
        assert.equal(ref.slice(0, colon), "public.ecr.aws/aws-observability/aws-for-fluent-bit");
        const tag = ref.slice(colon + 1);
        assert.match(tag, /^\d+\.\d+\.\d+(\.\d{8})?$/, `pinned version tag, not '${tag}'`);
        assert.ok(readImageFile("Dockerfile").split("FROM")[0].includes(tag), "the comment above FROM says which version and why");
    });

    it("copies the config and parsers to exactly the paths FireLens and Parsers_File name", () => {
        const copies = instructions.filter((i) => i.op === "COPY").map((i) => i.args);
        assert.deepEqual(
            Object.fromEntries(copies.map((args) => [args[0], args[1]])),
            IMAGE_FILES,
            "COPY <build-context file> <contract path>",
        );
        assert.ok(copies.every((args) => args.length === 2));
        for (const source of Object.keys(IMAGE_FILES)) {
            assert.ok(fs.existsSync(path.join(FLUENT_BIT_DIR, source)), `${source} exists in the build context`);
        }
        assert.deepEqual(Object.values(IMAGE_FILES).sort(), [FIRELENS_CONFIG_PATH, PARSERS_PATH].sort());
        assert.equal(FIRELENS_OPTIONS["config-file-type"], "file");
        assert.equal(FIRELENS_OPTIONS["config-file-value"], FIRELENS_CONFIG_PATH);
        assert.notEqual(FIRELENS_CONFIG_PATH, "/fluent-bit/etc/fluent-bit.conf", "FireLens mounts its own config there");
    });

    it("adds only static files and keeps the base entrypoint (nothing is fetched at start)", () => {
        assert.deepEqual(
            instructions.map((i) => i.op).filter((op) => !["FROM", "COPY", "LABEL", "ENV"].includes(op)),
            [],
            "no RUN, ADD, ENTRYPOINT or CMD",
        );
    });
});

describe("routing simulation over the parsed config", () => {
    it("sends an ERROR record to CloudWatch Logs once and to S3 once", () => {
        const deliveries = route(extra, firelensRecord(appLine("ERROR", "payment failed")));
        assert.deepEqual(outputsReached(deliveries), ["cloudwatch_logs", "s3"]);
        const copy = deliveries.find((d) => d.output === "cloudwatch_logs") as Delivery;
        const original = deliveries.find((d) => d.output === "s3") as Delivery;
        assert.equal(copy.tag, `${ERROR_TAG_PREFIX}.${APP_TAG}`);
        assert.equal(original.tag, APP_TAG);
        for (const { record } of [copy, original]) {
            assert.equal(record.level, "ERROR");
            assert.equal(record.message, "payment failed");
            assert.equal(record.time, "2026-01-22T10:15:30.123Z", "Time_Keep On");
            assert.equal(record.ecs_task_definition, "backend-dev:7", "Reserve_Data keeps metadata");
            assert.equal(record.log, undefined, "the parsed line is not stored twice");
        }
    });

    for (const level of ["error", "Critical", "CRITICAL", "FATAL", "fatal"]) {
        it(`routes level '${level}' to both outputs`, () => {
            assert.deepEqual(outputsReached(route(extra, firelensRecord(appLine(level, "x")))), ["cloudwatch_logs", "s3"]);
        });
    }

    const s3Only: Array<[string, string]> = [
        ["INFO whose message contains 'error'", appLine("INFO", "retrying after error: ERROR 503")],
        ["WARNING", appLine("WARNING", "slow query")],
        ["WARN", appLine("WARN", "slow query")],
        ["DEBUG", appLine("DEBUG", "x")],
        ["'ERRORS'", appLine("ERRORS", "x")],
        ["a numeric level", appLine(40, "x")],
        ["a JSON line without level", JSON.stringify({ time: "2026-01-22T10:15:30.123Z", message: "ERROR" })],
    ];
    for (const [what, line] of s3Only) {
        it(`sends ${what} to S3 only`, () => {
            assert.deepEqual(outputsReached(route(extra, firelensRecord(line))), ["s3"]);
        });
    }

    for (const line of [
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 42, in handler',
        "ERROR: something went wrong",
        "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
        "[1, 2, 3]",
    ]) {
        it(`keeps the non-JSON line '${line.trim().slice(0, 30)}' unchanged and sends it to S3 only`, () => {
            const input = firelensRecord(line);
            const deliveries = route(extra, input);
            assert.deepEqual(outputsReached(deliveries), ["s3"]);
            assert.deepEqual(deliveries[0].record, input.record);
        });
    }

    it("neither loses nor duplicates records in a mixed batch", () => {
        const lines = [
            appLine("INFO", "start"),
            appLine("ERROR", "a"),
            "Traceback (most recent call last):",
            appLine("critical", "b"),
            appLine("INFO", "error in text"),
        ];
        const deliveries = lines.flatMap((l) => route(extra, firelensRecord(l)));
        assert.equal(deliveries.filter((d) => d.output === "s3" && d.tag === APP_TAG).length, lines.length);
        assert.equal(deliveries.filter((d) => d.output === "s3").length, lines.length);
        assert.equal(deliveries.filter((d) => d.output === "cloudwatch_logs").length, 2);
    });

    it("leaves FireLens' health-check records to FireLens' own null output", () => {
        assert.deepEqual(route(extra, { tag: "firelens-healthcheck", record: { health: "check" } }), []);
    });
});
