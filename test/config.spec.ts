import { strict as assert } from "assert";
import * as fs from "fs";
import { parse as parseYaml } from "yaml";
import {
    CLOUDWATCH_RETENTION_DAYS, isReservedDomain, describeSizes, OPTIONAL_KEYS, parseSettings, SETTING_KEYS, SettingsError, windowsOverlap,
} from "../config";
import { readStackConfig } from "../tools/stack-config";

/** dev's real configuration with some keys replaced (undefined removes a key). */
function devWith(changes: Record<string, string | undefined>, stack = "dev"): Record<string, string> {
    const values = { ...readStackConfig(stack).values };
    for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) delete values[k];
        else values[k] = v;
    }
    return values;
}

/** Asserts parseSettings rejects the change with a message naming the key, the value and the file. */
function rejects(changes: Record<string, string | undefined>, key: string, fragment: RegExp, stack = "dev"): void {
    assert.throws(() => parseSettings({ stack, values: devWith(changes, stack) }), (err: unknown) => {
        assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${err}`);
        const line = err.problems.find((p) => p.startsWith(`${key} = `));
        assert.ok(line, `no problem reported for ${key}; got:\n${err.message}`);
        assert.match(line, fragment);
        assert.match(err.message, new RegExp(`in Pulumi\\.${stack}\\.yaml`));
        return true;
    });
}

describe("stack settings", () => {
    describe("the committed stacks", () => {
        it("dev and prod parse with their per-stack values", () => {
            const dev = parseSettings({ stack: "dev", values: readStackConfig("dev").values });
            const prod = parseSettings({ stack: "prod", values: readStackConfig("prod").values });
            assert.equal(dev.region, "ap-northeast-1");
            assert.equal(dev.network.logRetentionDays, 7);
            assert.equal(prod.network.logRetentionDays, 30);
            assert.equal(dev.protection.protectStatefulResources, false);
            assert.equal(prod.protection.protectStatefulResources, true);
            assert.equal(dev.database.dbInstanceClass, "db.t4g.medium");
            assert.equal(prod.database.dbInstanceClass, "db.r6g.large");
            assert.deepEqual(dev.network.interfaceEndpointServices, ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]);
            assert.equal(dev.network.vpcCidr, "10.0.0.0/16");
            assert.equal(dev.network.availabilityZoneCount, 2);
        });

        it("every setting config.ts knows is declared in Pulumi.yaml with a type, and nothing else is", () => {
            const declared = (parseYaml(fs.readFileSync("Pulumi.yaml", "utf8")) as { config: Record<string, { type?: string }> }).config;
            const projectKeys = Object.keys(declared).filter((k) => !k.includes(":"));
            assert.deepEqual([...projectKeys].sort(), Object.keys(SETTING_KEYS).sort());
            for (const k of projectKeys) assert.ok(["string", "integer", "boolean", "array"].includes(declared[k].type ?? ""), `${k} has no type`);
        });

        it("every declared key has a default, so the CLI runs a stack that does not set it", () => {
            // The Pulumi CLI (ValidateStackConfigAndApplyProjectConfig) refuses to run a stack that
            // leaves a project key declared without `default` unset: "Stack 'dev' is missing
            // configuration values 'appImage', 'certificateArn', ...". Optional strings default to "".
            const declared = (parseYaml(fs.readFileSync("Pulumi.yaml", "utf8")) as {
                config: Record<string, { default?: unknown; value?: unknown }>;
            }).config;
            for (const stack of ["dev", "prod"]) {
                const set = (parseYaml(fs.readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
                const missing = Object.keys(declared).filter((k) => !k.includes(":"))
                    .filter((k) => declared[k].default == null && declared[k].value == null && set[`backend-infra:${k}`] === undefined);
                assert.deepEqual(missing, [], `Stack '${stack}' is missing configuration values ${missing.join(", ")}`);
            }
            for (const k of Object.keys(SETTING_KEYS)) {
                assert.notEqual(declared[k].default ?? null, null, `${k} has no default in Pulumi.yaml`);
                if (OPTIONAL_KEYS.has(k)) assert.equal(declared[k].default, "", `optional ${k} defaults to "" (not set)`);
            }
        });

        it("reads an optional setting left at its empty default as not set", () => {
            const dev = parseSettings({ stack: "dev", values: readStackConfig("dev").values });
            assert.equal(readStackConfig("dev").values["backend-infra:certificateArn"], "", "the CLI hands the program the empty default");
            for (const k of ["appImage", "certificateArn", "domainName", "hostedZoneId"] as const) {
                assert.equal(dev.service[k], undefined, k);
            }
            assert.equal(dev.service.appImageTag, "0.1.0");
            const prod = parseSettings({ stack: "prod", values: readStackConfig("prod").values });
            assert.equal(prod.service.certificateArn, undefined);
            assert.equal(prod.service.domainName, "example.com");
            // an explicit empty value (pulumi config set appImage "") is "not set" too
            const tagOnly = parseSettings({ stack: "dev", values: devWith({ "backend-infra:appImage": "", "backend-infra:domainName": "" }) });
            assert.equal(tagOnly.service.appImage, undefined);
            assert.equal(tagOnly.service.domainName, undefined);
        });

        it("stack files tag every resource through the provider's default tags", () => {
            for (const stack of ["dev", "prod"]) {
                const tags = JSON.parse(readStackConfig(stack).values["aws:defaultTags"]).tags;
                assert.deepEqual(tags, { Project: "backend-infra", Stack: stack, ManagedBy: "pulumi" });
            }
        });
    });

    describe("bad settings stop the program with key, value and file", () => {
        it("a malformed CIDR", () => rejects({ "backend-infra:vpcCidr": "10.0.0/16" }, "backend-infra:vpcCidr", /"10\.0\.0\/16": is not an IPv4 CIDR/));
        it("a CIDR whose address is not the network address", () => rejects({ "backend-infra:vpcCidr": "10.0.1.0/16" }, "backend-infra:vpcCidr", /not an IPv4 CIDR/));
        it("a VPC CIDR too small for the subnets", () =>
            rejects({ "backend-infra:vpcCidr": "10.0.0.0/22" }, "backend-infra:vpcCidr", /too small for 2 AZs with \/20 subnets: each half of the VPC \(public, private\) holds 0/));
        it("a VPC whose halves hold fewer subnets than AZs", () =>
            rejects({ "backend-infra:vpcCidr": "10.0.0.0/19", "backend-infra:availabilityZoneCount": "3" }, "backend-infra:vpcCidr", /each half of the VPC \(public, private\) holds 1/));
        it("fewer than 2 AZs", () => rejects({ "backend-infra:availabilityZoneCount": "1" }, "backend-infra:availabilityZoneCount", /= 1: must be at least 2/));
        it("an unknown interface endpoint service", () =>
            rejects({ "backend-infra:interfaceEndpointServices": JSON.stringify(["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ecr.docker"]) },
                "backend-infra:interfaceEndpointServices", /"ecr\.docker".*not an interface endpoint service/));
        it("a required endpoint left out", () =>
            rejects({ "backend-infra:interfaceEndpointServices": JSON.stringify(["ecr.api", "ecr.dkr", "secretsmanager"]) },
                "backend-infra:interfaceEndpointServices", /must include logs/));
        it("a retention CloudWatch does not accept", () =>
            rejects({ "backend-infra:logRetentionDays": "10" }, "backend-infra:logRetentionDays", /= 10: is not a retention CloudWatch Logs accepts/));
        it("a missing region", () => rejects({ "aws:region": undefined }, "aws:region", /\(not set\): the AWS region is required/));
        it("a malformed region", () => rejects({ "aws:region": "tokyo" }, "aws:region", /not an AWS region name/));
        it("a wrong type", () => rejects({ "backend-infra:availabilityZoneCount": "two" }, "backend-infra:availabilityZoneCount", /"two": must be a number/));
        it("a boolean given as a word", () => rejects({ "backend-infra:protectStatefulResources": "yes" }, "backend-infra:protectStatefulResources", /must be of type boolean/));
        it("an unknown key, with a suggestion for a typo", () =>
            rejects({ "backend-infra:vpcCdir": "10.0.0.0/16" }, "backend-infra:vpcCdir", /unknown setting \(did you mean backend-infra:vpcCidr\?\)/));
        it("an instance class Aurora PostgreSQL does not offer", () =>
            rejects({ "backend-infra:dbInstanceClass": "db.m5.large" }, "backend-infra:dbInstanceClass", /not an instance class Aurora PostgreSQL offers/));
        it("no reader in prod", () => rejects({ "backend-infra:dbReaderCount": "0" }, "backend-infra:dbReaderCount", /at least 1 when protectStatefulResources/, "prod"));
        it("reader scaling bounds the wrong way round", () =>
            rejects({ "backend-infra:dbReaderMinCount": "4", "backend-infra:dbReaderMaxCount": "2" }, "backend-infra:dbReaderMinCount", /must not exceed dbReaderMaxCount \(2\)/));
        it("a reader count outside the scaling bounds", () =>
            rejects({ "backend-infra:dbReaderCount": "5" }, "backend-infra:dbReaderCount", /between dbReaderMinCount \(1\) and dbReaderMaxCount \(3\)/, "prod"));
        it("backup and maintenance windows that overlap", () =>
            rejects({ "backend-infra:dbMaintenanceWindow": "mon:17:30-mon:18:30" }, "backend-infra:dbMaintenanceWindow", /overlaps dbBackupWindow/));
        it("a default master user name", () => rejects({ "backend-infra:dbMasterUsername": "postgres" }, "backend-infra:dbMasterUsername", /must not be a default name/));
        it("a CPU/memory pair Fargate does not accept", () =>
            rejects({ "backend-infra:taskMemory": "512" }, "backend-infra:taskMemory", /not a memory size Fargate accepts with taskCpu 512 \(1024–4096 MiB in steps of 1024\)/));
        it("a memory size between the few Fargate takes with 256 CPU units, listing them", () =>
            rejects({ "backend-infra:taskCpu": "256", "backend-infra:taskMemory": "1536" }, "backend-infra:taskMemory",
                /not a memory size Fargate accepts with taskCpu 256 \(512, 1024 or 2048 MiB\)/));
        it("the same alert address twice (any letter case)", () =>
            rejects({ "backend-infra:alertEmails": JSON.stringify(["ops@example.com", "Ops@example.com"]) }, "backend-infra:alertEmails",
                /lists Ops@example\.com more than once/));
        it("a slow-query threshold PostgreSQL cannot hold", () =>
            rejects({ "backend-infra:dbSlowQueryMs": "2147483648" }, "backend-infra:dbSlowQueryMs", /2147483648/));
        it("a CPU value Fargate does not have", () => rejects({ "backend-infra:taskCpu": "768" }, "backend-infra:taskCpu", /not a Fargate CPU value/));
        it("a half-given domain", () =>
            rejects({ "backend-infra:domainName": "example.org" }, "backend-infra:hostedZoneId", /required when domainName is set/));
        it("a certificate and a domain at once", () =>
            rejects({ "backend-infra:certificateArn": "arn:aws:acm:ap-northeast-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-0123456789ab" },
                "backend-infra:certificateArn", /either certificateArn or domainName/, "prod"));
        it("a certificate from another region", () =>
            rejects({ "backend-infra:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-0123456789ab" },
                "backend-infra:certificateArn", /in the stack's region ap-northeast-1/));
        it("both an image URI and a tag", () =>
            rejects({ "backend-infra:appImage": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/backend:1.2.3" }, "backend-infra:appImageTag", /exactly one of appImage/));
        it("an image the private subnets cannot reach", () =>
            rejects({ "backend-infra:appImage": "public.ecr.aws/acme/backend:1.2.3", "backend-infra:appImageTag": undefined },
                "backend-infra:appImage", /must be a private ECR image in ap-northeast-1/));
        it("a malformed e-mail in the alert list", () =>
            rejects({ "backend-infra:alertEmails": JSON.stringify(["ops@example.com", "not-an-address"]) }, "backend-infra:alertEmails", /"not-an-address": is not an e-mail address \(item 1\)/));
        it("a single task in prod", () => rejects({ "backend-infra:desiredCount": "1", "backend-infra:minTaskCount": "1" }, "backend-infra:desiredCount", /at least 2/, "prod"));
        it("archiving after expiry", () => rejects({ "backend-infra:logExpireAfterDays": "60" }, "backend-infra:logExpireAfterDays", /greater than logArchiveAfterDays \(90\)/));

        it("reports every problem at once", () => {
            try {
                parseSettings({ stack: "dev", values: devWith({ "backend-infra:vpcCidr": "nope", "backend-infra:logRetentionDays": "2", "backend-infra:appPort": "80" }) });
                assert.fail("expected a SettingsError");
            } catch (err) {
                assert.ok(err instanceof SettingsError);
                assert.equal(err.problems.length, 3, err.message);
            }
        });
    });

    describe("placeholders and stack names", () => {
        const prod = () => readStackConfig("prod").values;

        it("lets a preview of prod's placeholder domain through with a notice naming the keys", () => {
            const s = parseSettings({ stack: "prod", values: prod(), deploying: false });
            assert.equal(s.service.domainName, "example.com");
            assert.equal(s.notices.length, 1);
            assert.match(s.notices[0], /backend-infra:domainName in Pulumi\.prod\.yaml: example\.com is a placeholder.*`pulumi up` stops here/);
        });

        it("stops `pulumi up` on a placeholder domain before any resource is created", () => {
            assert.throws(() => parseSettings({ stack: "prod", values: prod(), deploying: true }),
                (err: unknown) => err instanceof SettingsError && /backend-infra:domainName = "example\.com": example\.com is a placeholder reserved for documentation/.test(err.message));
        });

        it("deploys a real domain without notices", () => {
            const s = parseSettings({ stack: "prod", values: { ...prod(), "backend-infra:domainName": "api-platform.jp" }, deploying: true });
            assert.deepEqual(s.notices, []);
        });

        it("recognises the reserved documentation domains only", () => {
            for (const d of ["example.com", "shop.example.org", "example.net", "svc.example", "a.test", "x.invalid"]) assert.ok(isReservedDomain(d), d);
            for (const d of ["example.co.jp", "myexample.com", "examples.com", "testing.io"]) assert.ok(!isReservedDomain(d), d);
        });

        it("rejects a stack name that cannot be part of AWS names", () => {
            assert.throws(() => parseSettings({ stack: "Prod_EU", values: readStackConfig("dev").values }),
                (err: unknown) => err instanceof SettingsError && /stack "Prod_EU": stack names become part of AWS resource names/.test(err.message));
        });
    });

    describe("helpers", () => {
        it("lists exactly the retention values CloudWatch accepts", () => {
            assert.equal(CLOUDWATCH_RETENTION_DAYS.length, 22);
            assert.ok(!(CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(10));
        });
        it("describes Fargate's memory sizes as a range only when the steps are even", () => {
            assert.equal(describeSizes([1024, 2048, 3072, 4096]), "1024–4096 MiB in steps of 1024");
            assert.equal(describeSizes([512, 1024, 2048]), "512, 1024 or 2048 MiB");
        });
        it("accepts internationalised (punycode) top-level domains", () => {
            const s = parseSettings({ stack: "prod", values: devWith({ "backend-infra:domainName": "example.xn--p1ai" }, "prod") });
            assert.equal(s.service.domainName, "example.xn--p1ai");
        });
        it("detects window overlap across days and the week boundary", () => {
            assert.equal(windowsOverlap("17:00-18:00", "sun:18:30-sun:19:30"), false);
            assert.equal(windowsOverlap("17:00-18:00", "wed:17:59-wed:18:30"), true);
            assert.equal(windowsOverlap("23:30-00:30", "mon:00:00-mon:00:45"), true);
            assert.equal(windowsOverlap("23:30-00:30", "sun:23:45-mon:00:15"), true);
            assert.equal(windowsOverlap("02:00-03:00", "sun:23:00-mon:01:00"), false);
        });
    });
});
