// The npm scripts `preview`, `up` and `destroy`: run the Pulumi CLI for one stack of this project,
// always with this project's policy pack and that stack's pack config.
//
//   npm run preview -- --stack dev [any other pulumi preview flags]
//   npm run up      -- --stack prod [--yes] [...]
//   npm run destroy -- --stack dev [--yes] [...]
//
// `pulumi preview` and `pulumi up` get `--policy-pack policy-pack --policy-pack-config
// policy-pack/<stack>.json`. Passing another `--policy-pack` or `--policy-pack-config` is refused
// unless `--override-policy-pack` is given too; running without any pack means calling the CLI
// directly, on purpose. `pulumi destroy` has no policy-pack flags (the CLI runs no policies on a
// destroy), so destroy passes none and instead refuses a stack whose settings protect stateful
// resources (prod) unless `--destroy-protected-stack` is given.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT, readStackConfig } from "./stack-config";

export const COMMANDS = ["preview", "up", "destroy"] as const;
export type PulumiCommand = (typeof COMMANDS)[number];

/** The pack directory, relative to the project root (where the CLI runs). */
export const POLICY_PACK_DIR = "policy-pack";
/** Lets `--policy-pack` / `--policy-pack-config` replace the project's pack or its stack config. */
export const OVERRIDE_POLICY_PACK_FLAG = "--override-policy-pack";
/** Lets destroy run on a stack whose settings set protectStatefulResources: true. */
export const DESTROY_PROTECTED_FLAG = "--destroy-protected-stack";
/** The stack setting that marks a stack's stateful resources as protected. */
export const PROTECT_SETTING = "protectStatefulResources";

/** What the argument builder needs to know about the project on disk. */
export interface ProjectView {
    /** Stacks that have a `Pulumi.<stack>.yaml`. */
    stacks(): string[];
    /** Whether `policy-pack/PulumiPolicy.yaml` exists. */
    hasPolicyPack(): boolean;
    /** Whether `policy-pack/<stack>.json` exists. */
    hasPackConfig(stack: string): boolean;
    /** Whether the stack's settings (Pulumi.yaml defaults + stack file) set protectStatefulResources: true. */
    protectsStatefulResources(stack: string): boolean;
}

/** The command line to run, and what it was built from. */
export interface Invocation {
    command: PulumiCommand;
    /** The stack as given (`dev`, or `org/dev`, or `org/backend-infra/dev`). */
    stack: string;
    /** The stack's short name, which names its files. */
    stackName: string;
    /** Arguments for the `pulumi` binary. */
    argv: string[];
}

/** A usage error: bad or missing arguments, or a refused request. */
export class CommandError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CommandError";
    }
}

const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function isCommand(value: string | undefined): value is PulumiCommand {
    return (COMMANDS as readonly string[]).includes(value ?? "");
}

function packConfigPath(stackName: string): string {
    return `${POLICY_PACK_DIR}/${stackName}.json`;
}

/**
 * Builds the `pulumi` arguments for `command` from the arguments given after `npm run <command> --`.
 * Pure apart from the questions it asks `project`; throws a CommandError that says what to do.
 */
export function buildInvocation(command: string | undefined, args: readonly string[], project: ProjectView): Invocation {
    if (!isCommand(command)) {
        throw new CommandError(`unknown command ${JSON.stringify(command ?? "")}: expected one of ${COMMANDS.join(", ")}`);
    }
    const usage = `usage: npm run ${command} -- --stack <${project.stacks().join("|") || "stack"}> [pulumi ${command} flags]`;

    let stack: string | undefined;
    const packs: string[] = [];
    const packConfigs: string[] = [];
    let allowOverride = false;
    let allowProtected = false;
    const passThrough: string[] = [];

    for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        const valueOf = (flag: string): string => {
            const inline = arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : undefined;
            const value = inline ?? args[++i];
            if (value === undefined || value === "" || (inline === undefined && value.startsWith("-"))) {
                throw new CommandError(`${flag} needs a value\n${usage}`);
            }
            return value;
        };
        if (arg === "--stack" || arg === "-s" || arg.startsWith("--stack=")) {
            const value = valueOf(arg === "-s" ? "-s" : "--stack");
            if (stack !== undefined && stack !== value) throw new CommandError(`--stack given twice (${stack}, ${value})`);
            stack = value;
        } else if (arg === "--policy-pack" || arg.startsWith("--policy-pack=")) {
            packs.push(valueOf("--policy-pack"));
        } else if (arg === "--policy-pack-config" || arg.startsWith("--policy-pack-config=")) {
            packConfigs.push(valueOf("--policy-pack-config"));
        } else if (arg === OVERRIDE_POLICY_PACK_FLAG) {
            allowOverride = true;
        } else if (arg === DESTROY_PROTECTED_FLAG) {
            allowProtected = true;
        } else {
            passThrough.push(arg);
        }
    }

    if (stack === undefined) throw new CommandError(`--stack is required\n${usage}`);
    // `org/stack` and `org/project/stack` name the same stack files as `stack`.
    const segments = stack.split("/");
    const stackName = segments[segments.length - 1];
    if (segments.length > 3 || !segments.every((s) => STACK_NAME.test(s))) {
        throw new CommandError(`${JSON.stringify(stack)} is not a stack name\n${usage}`);
    }
    const known = project.stacks();
    if (!known.includes(stackName)) {
        throw new CommandError(
            `unknown stack ${JSON.stringify(stackName)}: there is no Pulumi.${stackName}.yaml ` +
            `(stacks in this project: ${known.join(", ") || "none"})`,
        );
    }

    const argv: string[] = [command, "--stack", stack];

    if (command === "destroy") {
        if (packs.length > 0 || packConfigs.length > 0 || allowOverride) {
            throw new CommandError(
                "pulumi destroy has no --policy-pack or --policy-pack-config flag (the CLI runs no policies on a destroy); " +
                `run: npm run destroy -- --stack ${stack}`,
            );
        }
        if (project.protectsStatefulResources(stackName) && !allowProtected) {
            throw new CommandError(
                `refusing to destroy stack ${stackName}: Pulumi.${stackName}.yaml sets backend-infra:${PROTECT_SETTING}: true.\n` +
                "  pulumi destroy would delete every unprotected resource (service, load balancer, network) and then stop at\n" +
                "  the protected ones (Aurora cluster, log bucket, KMS keys), leaving the stack half torn down.\n" +
                `  To retire the stack: set ${PROTECT_SETTING} to false, run npm run up -- --stack ${stack}, then destroy.\n` +
                `  To run pulumi destroy on it anyway, add ${DESTROY_PROTECTED_FLAG}.`,
            );
        }
        return { command, stack, stackName, argv: [...argv, ...passThrough] };
    }

    if (allowProtected) {
        throw new CommandError(`${DESTROY_PROTECTED_FLAG} only applies to npm run destroy`);
    }
    if ((packs.length > 0 || packConfigs.length > 0) && !allowOverride) {
        const given = [...packs.map((p) => `--policy-pack ${p}`), ...packConfigs.map((c) => `--policy-pack-config ${c}`)];
        throw new CommandError(
            `refusing ${given.join(" ")}: npm run ${command} always runs this project's pack ` +
            `(--policy-pack ${POLICY_PACK_DIR} --policy-pack-config ${packConfigPath(stackName)}).\n` +
            `  To use another pack or config, add ${OVERRIDE_POLICY_PACK_FLAG}; to run without any pack, call the Pulumi CLI yourself.`,
        );
    }
    if (!project.hasPolicyPack()) {
        throw new CommandError(`the policy pack is missing: ${POLICY_PACK_DIR}/PulumiPolicy.yaml does not exist`);
    }

    // With the override: the given packs replace the project's; the given configs replace the
    // stack's config, which is kept only while the project's own pack runs.
    const runPacks = packs.length > 0 ? packs : [POLICY_PACK_DIR];
    const runConfigs = packConfigs.length > 0 ? packConfigs : packs.length > 0 ? [] : [packConfigPath(stackName)];
    if (runConfigs.includes(packConfigPath(stackName)) && !project.hasPackConfig(stackName)) {
        throw new CommandError(
            `stack ${stackName} has no policy pack config: create ${packConfigPath(stackName)} ` +
            `(the pack's settings for this stack, like ${known.filter((s) => s !== stackName && project.hasPackConfig(s)).map(packConfigPath).join(", ") || "the other stacks' files"})`,
        );
    }
    for (const pack of runPacks) argv.push("--policy-pack", pack);
    for (const config of runConfigs) argv.push("--policy-pack-config", config);
    return { command, stack, stackName, argv: [...argv, ...passThrough] };
}

/** The project as it is on disk under `root`. */
export function projectOnDisk(root: string = PROJECT_ROOT): ProjectView {
    return {
        stacks: () => fs.readdirSync(root)
            .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
            .filter((s): s is string => s !== undefined)
            .sort(),
        hasPolicyPack: () => fs.existsSync(path.join(root, POLICY_PACK_DIR, "PulumiPolicy.yaml")),
        hasPackConfig: (stack) => fs.existsSync(path.join(root, packConfigPath(stack))),
        protectsStatefulResources: (stack) => {
            const cfg = readStackConfig(stack, root);
            return cfg.values[`${cfg.project}:${PROTECT_SETTING}`] === "true";
        },
    };
}

const INSTALL_HINT =
    "the Pulumi CLI (pulumi) is not installed or not on PATH.\n" +
    "  Install it: https://www.pulumi.com/docs/iac/download-install/ (for example: curl -fsSL https://get.pulumi.com | sh),\n" +
    "  then log in to your state backend: pulumi login, or pulumi login s3://<state-bucket>";

/** Runs the CLI and exits with its status. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
    let invocation: Invocation;
    try {
        invocation = buildInvocation(argv[0], argv.slice(1), projectOnDisk());
    } catch (err) {
        if (err instanceof CommandError) {
            console.error(`error: ${err.message}`);
            process.exit(2);
        }
        throw err;
    }
    console.error(`$ pulumi ${invocation.argv.join(" ")}`);
    const child = spawn("pulumi", invocation.argv, { cwd: PROJECT_ROOT, stdio: "inherit" });
    // Ctrl-C reaches the CLI straight from the terminal (same process group) and the CLI cancels
    // cleanly; forwarding it too would be a second interrupt, which the CLI treats as "abort now".
    // So this process only stays alive for SIGINT and passes SIGTERM on.
    const onSigint = (): void => undefined;
    const onSigterm = (): void => { child.kill("SIGTERM"); };
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    child.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") {
            console.error(`error: ${INSTALL_HINT}`);
            process.exit(127);
        }
        console.error(`error: could not run pulumi: ${err.message}`);
        process.exit(1);
    });
    child.on("exit", (code, signal) => {
        process.off("SIGINT", onSigint);
        process.off("SIGTERM", onSigterm);
        process.exit(code ?? 128 + (signal ? os.constants.signals[signal] ?? 0 : 0));
    });
}

if (require.main === module) {
    main();
}
