// Command-line handling shared by the offline tools (`preview:offline`, `policy:check`).

/** A bad command line: the tool prints the message and its usage. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/**
 * Walks `argv`, calling `on(arg, value)` for every argument. `value()` takes the flag's value: the
 * text after `=` in `--flag=value`, else the next argument; a missing value, or one that is itself
 * a `--flag`, is a UsageError. A `--flag=value` whose handler takes no value is refused too.
 */
export function walkArgs(argv: readonly string[], on: (arg: string, value: () => string) => void): void {
    for (let i = 0; i < argv.length; i++) {
        const raw = argv[i];
        const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
        const arg = eq > 0 ? raw.slice(0, eq) : raw;
        let inlineUsed = false;
        on(arg, () => {
            if (eq > 0) {
                inlineUsed = true;
                const inline = raw.slice(eq + 1);
                if (inline === "") throw new UsageError(`${arg} needs a value`);
                return inline;
            }
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${arg} needs a value`);
            return v;
        });
        if (eq > 0 && !inlineUsed) throw new UsageError(`${arg} takes no value`);
    }
}

/**
 * The message a tool prints when `err` ends it: `error: <message>` for the errors it expects
 * (named in `expected`, by class name), the usage too for a UsageError, and the stack trace for
 * anything else, after `unexpected` (what failed).
 */
export function failureMessage(err: unknown, usage: string, expected: readonly string[], unexpected = ""): string {
    if (err instanceof UsageError) return `error: ${err.message}\n${usage}`;
    if (err instanceof Error && expected.includes(err.name)) return `error: ${err.message}`;
    return `error: ${unexpected}${err instanceof Error ? err.stack ?? err.message : String(err)}`;
}

/** Runs a tool's `main` and exits with its status, or with `failureCode` after printing what ended it. */
export function runTool(main: (argv: string[]) => Promise<number>, usage: string, expected: readonly string[], failureCode: number, unexpected = ""): void {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            console.error(failureMessage(err, usage, expected, unexpected));
            process.exit(failureCode);
        },
    );
}
