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
