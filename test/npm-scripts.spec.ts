// The npm scripts that wrap the Pulumi CLI (`npm run preview|up|destroy -- --stack <stack>`): their
// definitions, the arguments they build, and the CLI wrapper end to end with a stand-in `pulumi`.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import {
    buildInvocation, CommandError, COMMANDS, DESTROY_PROTECTED_FLAG, OVERRIDE_POLICY_PACK_FLAG,
    projectOnDisk, ProjectView,
} from "../tools/pulumi-stack-command";

const ROOT = path.resolve(__dirname, "..");
const WRAPPER = "tools/pulumi-stack-command.ts";
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
const real = projectOnDisk(ROOT);

/** A project with the given stacks; `protectedStacks` set protectStatefulResources: true. */
function fakeProject(opts: { stacks?: string[]; packConfigs?: string[]; protectedStacks?: string[]; pack?: boolean } = {}): ProjectView {
    const stacks = opts.stacks ?? ["dev", "prod"];
    const packConfigs = opts.packConfigs ?? stacks;
    return {
        stacks: () => stacks,
        hasPolicyPack: () => opts.pack ?? true,
        hasPackConfig: (s) => packConfigs.includes(s),
        protectsStatefulResources: (s) => (opts.protectedStacks ?? ["prod"]).includes(s),
    };
}

function refused(command: string, args: string[], project: ProjectView, pattern: RegExp): void {
    assert.throws(() => buildInvocation(command, args, project), (err: unknown) => {
        assert.ok(err instanceof CommandError, `expected a CommandError, got ${String(err)}`);
        assert.match(err.message, pattern);
        return true;
    });
}

const packArgs = (stack: string) => ["--policy-pack", "policy-pack", "--policy-pack-config", `policy-pack/${stack}.json`];

describe("npm scripts wrapping the Pulumi CLI", () => {
    describe("package.json", () => {
        for (const command of COMMANDS) {
            it(`npm run ${command} runs the wrapper with the ${command} command`, () => {
                assert.equal(scripts[command], `ts-node --transpile-only ${WRAPPER} ${command}`);
            });
        }

        it("no script runs the Pulumi CLI around the wrapper", () => {
            for (const [name, script] of Object.entries(scripts)) {
                assert.ok(!/(^|[\s;&|])pulumi\s/.test(script), `npm run ${name} calls pulumi directly: ${script}`);
            }
            assert.ok(fs.existsSync(path.join(ROOT, WRAPPER)));
        });
    });

    describe("the arguments passed to pulumi", () => {
        for (const stack of ["dev", "prod"]) {
            for (const command of ["preview", "up"]) {
                it(`${command} --stack ${stack}: the policy pack and policy-pack/${stack}.json, always`, () => {
                    const inv = buildInvocation(command, ["--stack", stack], real);
                    assert.deepEqual(inv.argv, [command, "--stack", stack, ...packArgs(stack)]);
                    assert.ok(fs.existsSync(path.join(ROOT, `policy-pack/${stack}.json`)));
                });
            }
        }

        it("destroy --stack dev: no policy flags (pulumi destroy has none)", () => {
            assert.deepEqual(buildInvocation("destroy", ["--stack", "dev"], real).argv, ["destroy", "--stack", "dev"]);
        });

        it("destroy --stack prod: refused, because Pulumi.prod.yaml protects the stateful resources", () => {
            assert.equal(real.protectsStatefulResources("prod"), true);
            assert.equal(real.protectsStatefulResources("dev"), false);
            refused("destroy", ["--stack", "prod"], real, /refusing to destroy stack prod: Pulumi\.prod\.yaml sets backend-infra:protectStatefulResources: true/);
            refused("destroy", ["--stack", "prod", "--yes"], real, new RegExp(DESTROY_PROTECTED_FLAG));
        });

        it(`destroy --stack prod ${DESTROY_PROTECTED_FLAG}: runs, without the escape flag`, () => {
            assert.deepEqual(buildInvocation("destroy", ["--stack", "prod", DESTROY_PROTECTED_FLAG, "--yes"], real).argv,
                ["destroy", "--stack", "prod", "--yes"]);
            refused("up", ["--stack", "prod", DESTROY_PROTECTED_FLAG], real, /only applies to npm run destroy/);
        });

        it("forwards every other argument, in order, after the policy flags", () => {
            const inv = buildInvocation("up", ["--yes", "--stack", "dev", "--diff", "--target", "urn:a", "-m", "hello world"], real);
            assert.deepEqual(inv.argv, ["up", "--stack", "dev", ...packArgs("dev"), "--yes", "--diff", "--target", "urn:a", "-m", "hello world"]);
        });

        it("accepts --stack=NAME, -s NAME and an organization-qualified stack", () => {
            assert.deepEqual(buildInvocation("preview", ["--stack=dev"], real).argv, ["preview", "--stack", "dev", ...packArgs("dev")]);
            assert.deepEqual(buildInvocation("preview", ["-s", "prod"], real).argv, ["preview", "--stack", "prod", ...packArgs("prod")]);
            const org = buildInvocation("up", ["--stack", "acme/backend-infra/prod"], real);
            assert.equal(org.stackName, "prod");
            assert.deepEqual(org.argv, ["up", "--stack", "acme/backend-infra/prod", ...packArgs("prod")]);
        });
    });

    describe("refusals", () => {
        it("a missing --stack", () => {
            for (const command of COMMANDS) refused(command, [], real, /--stack is required[\s\S]*--stack <dev\|prod>/);
            refused("preview", ["--stack"], real, /--stack needs a value/);
            refused("preview", ["--stack", "--yes"], real, /--stack needs a value/);
        });

        it("an unknown stack, naming the stacks that exist", () => {
            refused("up", ["--stack", "staging"], real, /unknown stack "staging": there is no Pulumi\.staging\.yaml \(stacks in this project: dev, prod\)/);
            refused("preview", ["--stack", "../prod"], real, /is not a stack name/);
            refused("preview", ["--stack", "dev", "--stack", "prod"], real, /--stack given twice/);
        });

        it("a stack without a policy pack config, or a project without the pack", () => {
            refused("preview", ["--stack", "qa"], fakeProject({ stacks: ["dev", "qa"], packConfigs: ["dev"] }),
                /stack qa has no policy pack config: create policy-pack\/qa\.json/);
            refused("up", ["--stack", "dev"], fakeProject({ pack: false }), /the policy pack is missing/);
        });

        it("an attempt to replace the pack or its config, unless deliberately overridden", () => {
            for (const attempt of [["--policy-pack", "other-pack"], ["--policy-pack=other-pack"], ["--policy-pack-config", "lax.json"], ["--policy-pack-config=lax.json"]]) {
                for (const command of ["preview", "up"]) {
                    refused(command, ["--stack", "prod", ...attempt], real, new RegExp(`refusing --policy-pack[\\s\\S]*${OVERRIDE_POLICY_PACK_FLAG}`));
                }
            }
        });

        it(`with ${OVERRIDE_POLICY_PACK_FLAG}: the given pack or config replaces the project's`, () => {
            assert.deepEqual(
                buildInvocation("preview", ["--stack", "dev", OVERRIDE_POLICY_PACK_FLAG, "--policy-pack-config", "lax.json"], real).argv,
                ["preview", "--stack", "dev", "--policy-pack", "policy-pack", "--policy-pack-config", "lax.json"]);
            assert.deepEqual(
                buildInvocation("preview", ["--stack", "dev", OVERRIDE_POLICY_PACK_FLAG, "--policy-pack", "../other"], real).argv,
                ["preview", "--stack", "dev", "--policy-pack", "../other"]);
            // The flag alone changes nothing: the project's pack still runs.
            assert.deepEqual(buildInvocation("up", ["--stack", "dev", OVERRIDE_POLICY_PACK_FLAG], real).argv, ["up", "--stack", "dev", ...packArgs("dev")]);
        });

        it("policy flags on destroy", () => {
            refused("destroy", ["--stack", "dev", "--policy-pack", "policy-pack"], real, /pulumi destroy has no --policy-pack/);
            refused("destroy", ["--stack", "dev", OVERRIDE_POLICY_PACK_FLAG], real, /pulumi destroy has no --policy-pack/);
        });

        it("an unknown command", () => {
            refused("refresh", ["--stack", "dev"], real, /unknown command "refresh": expected one of preview, up, destroy/);
            refused(undefined as unknown as string, [], real, /unknown command/);
        });
    });

    describe("the CLI", function () {
        this.timeout(60_000);
        const run = (args: string[], pathDirs: string[]) => spawnSync(
            process.execPath, ["-r", "ts-node/register/transpile-only", WRAPPER, ...args],
            { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: pathDirs.join(path.delimiter) } },
        );
        let bin: string;
        before(() => {
            bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
            // Prints the arguments it was given and exits 3, so the exit status is seen to pass through.
            fs.writeFileSync(path.join(bin, "pulumi"), `#!${process.execPath}\nconsole.log(JSON.stringify(process.argv.slice(2)));\nprocess.exit(3);\n`, { mode: 0o755 });
        });
        after(() => fs.rmSync(bin, { recursive: true, force: true }));

        it("runs pulumi with the built arguments and exits with its status", () => {
            const result = run(["preview", "--stack", "prod", "--diff"], [bin]);
            assert.equal(result.status, 3, result.stderr);
            assert.deepEqual(JSON.parse(result.stdout.trim()), ["preview", "--stack", "prod", ...packArgs("prod"), "--diff"]);
            assert.match(result.stderr, /\$ pulumi preview --stack prod --policy-pack policy-pack --policy-pack-config policy-pack\/prod\.json --diff/);
        });

        it("says how to install the CLI when pulumi is not on PATH", () => {
            const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-pulumi-"));
            try {
                const result = run(["up", "--stack", "dev"], [empty]);
                assert.equal(result.status, 127);
                assert.match(result.stderr, /the Pulumi CLI \(pulumi\) is not installed or not on PATH[\s\S]*download-install/);
            } finally {
                fs.rmSync(empty, { recursive: true, force: true });
            }
        });

        it("exits 2 with the reason on a refused request, without running pulumi", () => {
            const result = run(["destroy", "--stack", "prod"], [bin]);
            assert.equal(result.status, 2);
            assert.equal(result.stdout, "");
            assert.match(result.stderr, /^error: refusing to destroy stack prod/);
        });
    });
});

describe("the deploy guide (README)", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const start = readme.indexOf("## Deploying for real");
    const end = readme.indexOf("\n## ", readme.indexOf("## Cost"));
    const guide = readme.slice(start, end < 0 ? undefined : end);
    const exported = new Set([...fs.readFileSync(path.join(ROOT, "index.ts"), "utf8").matchAll(/^export const (\w+)/gm)].map((m) => m[1]));
    const settings = new Set(Object.keys((parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: object }).config));

    it("has its sections", () => {
        assert.ok(start >= 0, "no Deploying for real section");
        for (const heading of ["## Troubleshooting", "## Cost"]) assert.ok(guide.includes(heading), `no ${heading} section`);
    });

    it("runs the npm scripts only in ways the wrapper accepts (prod destroy only with its escape flag)", () => {
        const uses = [...guide.matchAll(/npm run (preview|up|destroy) -- ([^`\n]*)/g)];
        assert.ok(uses.length >= 4, "the guide should show preview, up and destroy");
        for (const [text, command, rest] of uses) {
            const args = rest.split(/\s+/).filter(Boolean);
            const cut = args.findIndex((a) => a.startsWith("#") || a.startsWith("("));
            const given = cut < 0 ? args : args.slice(0, cut);
            const inv = () => buildInvocation(command, given, real);
            if (command === "destroy" && given.includes("prod") && !given.includes(DESTROY_PROTECTED_FLAG)) {
                assert.throws(inv, CommandError, `${text} should be shown as refused`);
            } else {
                assert.doesNotThrow(inv, `${text}`);
            }
        }
    });

    it("names only stack outputs that index.ts exports", () => {
        const named = [...guide.matchAll(/pulumi stack output (\w+)/g)].map((m) => m[1]);
        assert.ok(named.length > 0);
        for (const name of named) assert.ok(exported.has(name), `the guide reads output ${name}, which index.ts does not export`);
    });

    it("names only settings that Pulumi.yaml declares", () => {
        const keys = [...guide.matchAll(/pulumi config (?:set|get|rm)(?: --stack \w+)?(?: --path)? '?([A-Za-z]+)/g)].map((m) => m[1]);
        assert.ok(keys.length > 0);
        for (const key of keys) assert.ok(settings.has(key), `the guide sets ${key}, which Pulumi.yaml does not declare`);
    });
});
