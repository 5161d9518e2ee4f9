import { strict as assert } from "assert";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Aurora, auroraKeyPolicy, instancePlacement, KeyPolicy, rdsIdentifier } from "../components/aurora";
import { Network } from "../components/network";
import { Settings } from "../config";
import { ResourceRecorder } from "../tools/mock-harness";
import { RecordedResource, runUnderMocks, StackName, valueOf } from "./helpers";

const T = {
    component: "backend-infra:database:Aurora",
    cluster: "aws:rds/cluster:Cluster",
    instance: "aws:rds/clusterInstance:ClusterInstance",
    params: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    subnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    key: "aws:kms/key:Key",
    alias: "aws:kms/alias:Alias",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    subnet: "aws:ec2/subnet:Subnet",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    scalingTarget: "aws:appautoscaling/target:Target",
    scalingPolicy: "aws:appautoscaling/policy:Policy",
};

const ACCOUNT = "123456789012";
const REGION = "ap-northeast-1";

/** The network, the database and a stand-in for the service's task security group, admitted as a client. */
function buildDatabase(stack: StackName, overrides: Record<string, string> = {}) {
    return runUnderMocks(stack, (s) => {
        const network = new Network("backend", { ...s.network, stack: s.stack, region: s.region });
        const aurora = new Aurora("backend-db", auroraArgs(s, network));
        const tasks = new aws.ec2.SecurityGroup("tasks-sg", { vpcId: network.vpcId, description: "stand-in for the service tasks" });
        aurora.allowClient("service-tasks", tasks.id);
        return aurora;
    }, overrides);
}

function auroraArgs(s: Settings, network: Network, stack = s.stack) {
    return {
        ...s.database,
        protect: s.protection.protectStatefulResources,
        stack,
        region: s.region,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        availabilityZones: network.availabilityZones,
        logRetentionDays: s.network.logRetentionDays,
    };
}

function deps(r: RecordedResource, prop: string): string[] {
    return r.propertyDependencies[prop] ?? [];
}

/** Resources under the Aurora component (at any depth). */
function underAurora(rec: ResourceRecorder): RecordedResource[] {
    const root = rec.one(T.component).urn;
    const isUnder = (r: RecordedResource): boolean => r.parent === root || (r.parent !== null && isUnder(rec.byUrn(r.parent)!));
    return rec.resources.filter(isUnder);
}

describe("rdsIdentifier", () => {
    it("accepts lower-case identifiers with single hyphens", () => {
        assert.equal(rdsIdentifier("x", "backend-db-prod"), "backend-db-prod");
        assert.equal(rdsIdentifier("x", "a1"), "a1");
    });
    it("refuses what RDS refuses, naming the property", () => {
        for (const bad of ["Backend-db", "backend--db", "backend-db-", "1backend", "backend_db", "", "a".repeat(64)]) {
            assert.throws(() => rdsIdentifier("clusterIdentifier", bad), new RegExp(`clusterIdentifier "${bad}" is not a valid RDS identifier`), bad);
        }
    });
    it("allows longer snapshot identifiers when told", () => {
        assert.equal(rdsIdentifier("finalSnapshotIdentifier", `a${"-b".repeat(100)}`, 255).length, 201);
    });
});

describe("instancePlacement", () => {
    it("puts the writer in the first AZ and readers round-robin over the others", () => {
        assert.deepEqual(instancePlacement(["1a", "1c"], 1), { writer: "1a", readers: ["1c"] });
        assert.deepEqual(instancePlacement(["1a", "1c", "1d"], 3), { writer: "1a", readers: ["1c", "1d", "1c"] });
        assert.deepEqual(instancePlacement(["1a", "1c"], 0), { writer: "1a", readers: [] });
    });
    it("refuses fewer than two AZs", () => {
        assert.throws(() => instancePlacement(["1a"], 1), /availabilityZones must list at least 2 AZs/);
    });
});

describe("auroraKeyPolicy", () => {
    const policy = auroraKeyPolicy({ accountId: ACCOUNT, partition: "aws", region: REGION, dnsSuffix: "amazonaws.com" });
    const bySid = (sid: string) => policy.Statement.find((s) => s.Sid === sid)!;

    it("lets the account root administer the key but not encrypt or decrypt with it", () => {
        const admin = bySid("AccountAdministersKey");
        assert.equal(admin.Principal.AWS, `arn:aws:iam::${ACCOUNT}:root`);
        for (const use of ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"]) assert.ok(!admin.Action.includes(use), use);
        assert.ok(admin.Action.includes("kms:PutKeyPolicy") && admin.Action.includes("kms:ScheduleKeyDeletion"));
    });

    it("allows use only from this account through RDS and Secrets Manager in the region", () => {
        const open = policy.Statement.filter((s) => s.Principal.AWS === "*");
        assert.deepEqual(open.map((s) => s.Sid), ["UseThroughRdsAndSecretsManager", "GrantsForAwsResourcesOnly"]);
        for (const s of open) {
            assert.deepEqual(s.Condition?.StringEquals, {
                "kms:CallerAccount": ACCOUNT,
                "kms:ViaService": [`rds.${REGION}.amazonaws.com`, `secretsmanager.${REGION}.amazonaws.com`],
            }, s.Sid);
        }
        assert.deepEqual(bySid("UseThroughRdsAndSecretsManager").Action, [
            "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
            "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey",
        ]);
        const grants = bySid("GrantsForAwsResourcesOnly");
        assert.deepEqual(grants.Action, ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]);
        assert.deepEqual(grants.Condition?.Bool, { "kms:GrantIsForAWSResource": "true" });
    });

    it("names every action (no wildcard actions)", () => {
        for (const s of policy.Statement) for (const a of s.Action) assert.doesNotMatch(a, /\*/, `${s.Sid}: ${a}`);
    });
});

for (const stack of ["dev", "prod"] as const) {
    const prod = stack === "prod";
    const clusterId = `backend-db-${stack}`;

    describe(`Aurora (${stack})`, () => {
        let rec: ResourceRecorder;
        let aurora: Aurora;
        let settings: Settings;
        let cluster: RecordedResource;
        let key: RecordedResource;
        let instances: RecordedResource[];
        before(async () => {
            const run = await buildDatabase(stack);
            rec = run.recorder;
            aurora = run.result;
            settings = run.settings;
            cluster = rec.one(T.cluster);
            key = rec.one(T.key);
            instances = rec.ofType(T.instance);
        });

        it("registers the component and nests every child under it", () => {
            const component = rec.one(T.component);
            assert.equal(component.name, "backend-db");
            const mine = underAurora(rec).map((r) => r.type).sort();
            assert.deepEqual(mine, [
                T.alias, T.scalingPolicy, T.scalingTarget, T.logGroup, T.sg, T.key, T.cluster, T.instance, T.instance,
                T.params, T.subnetGroup, T.ingress,
            ].filter((t) => prod || (t !== T.scalingPolicy && t !== T.scalingTarget)).sort());
        });

        it("runs Aurora PostgreSQL 17 provisioned, with a parameter group of the same family", () => {
            assert.equal(cluster.inputs.engine, "aurora-postgresql", cluster.urn);
            assert.equal(cluster.inputs.engineMode, "provisioned", cluster.urn);
            assert.match(cluster.inputs.engineVersion, /^17\.\d+$/, cluster.urn);
            const params = rec.one(T.params);
            assert.equal(params.inputs.family, "aurora-postgresql17", params.urn);
            assert.deepEqual(deps(cluster, "dbClusterParameterGroupName"), [params.urn]);
            assert.equal(cluster.inputs.clusterIdentifier, clusterId);
        });

        it("requires TLS and logs statements slower than the setting", () => {
            const params = rec.one(T.params);
            const byName = Object.fromEntries((params.inputs.parameters as Array<{ name: string; value: string; applyMethod: string }>)
                .map((p) => [p.name, p]));
            assert.deepEqual(Object.keys(byName).sort(), ["log_min_duration_statement", "rds.force_ssl"], params.urn);
            assert.equal(byName["rds.force_ssl"].value, "1");
            assert.equal(byName.log_min_duration_statement.value, "500");
            assert.equal(byName.log_min_duration_statement.value, String(settings.database.dbSlowQueryMs));
            assert.equal(byName["rds.force_ssl"].applyMethod, "pending-reboot", "accepted whatever the parameter's apply type");
            assert.equal(byName.log_min_duration_statement.applyMethod, "immediate", "dynamic: threshold changes apply at once");
        });

        it("encrypts storage with its own rotating key, aliased per stack", () => {
            assert.equal(cluster.inputs.storageEncrypted, true, cluster.urn);
            assert.equal(cluster.inputs.kmsKeyId, key.outputs.arn, cluster.urn);
            assert.deepEqual(deps(cluster, "kmsKeyId"), [key.urn]);
            assert.equal(key.inputs.enableKeyRotation, true, key.urn);
            const alias = rec.one(T.alias);
            assert.equal(alias.inputs.name, `alias/${clusterId}`);
            assert.deepEqual(deps(alias, "targetKeyId"), [key.urn]);
        });

        it("gives the key a policy for this account and region only", () => {
            const policy: KeyPolicy = JSON.parse(key.inputs.policy);
            assert.deepEqual(policy.Statement.map((s) => s.Principal.AWS), [`arn:aws:iam::${ACCOUNT}:root`, "*", "*"], key.urn);
            for (const s of policy.Statement.slice(1)) {
                assert.equal(s.Condition?.StringEquals["kms:CallerAccount"], ACCOUNT, s.Sid);
                assert.deepEqual(s.Condition?.StringEquals["kms:ViaService"], ["rds.ap-northeast-1.amazonaws.com", "secretsmanager.ap-northeast-1.amazonaws.com"], s.Sid);
            }
            assert.deepEqual(policy, auroraKeyPolicy({ accountId: ACCOUNT, partition: "aws", region: REGION, dnsSuffix: "amazonaws.com" }));
        });

        it("lets RDS manage the master password in Secrets Manager under the key, with no password anywhere", () => {
            assert.equal(cluster.inputs.manageMasterUserPassword, true, cluster.urn);
            assert.equal(cluster.inputs.masterUserSecretKmsKeyId, key.outputs.arn);
            assert.deepEqual(deps(cluster, "masterUserSecretKmsKeyId"), [key.urn]);
            assert.equal(cluster.inputs.masterUsername, "backend_admin");
            for (const r of underAurora(rec)) {
                const passwordKeys = Object.keys(r.inputs).filter((k) => /password/i.test(k) && k !== "manageMasterUserPassword");
                assert.deepEqual(passwordKeys, [], r.urn);
            }
        });

        it("places the writer in AZ-1 and the reader in AZ-2, the reader first in line for failover", () => {
            assert.equal(instances.length, 1 + settings.database.dbReaderCount);
            const [writer, reader] = instances;
            assert.equal(writer.inputs.identifier, `${clusterId}-1`);
            assert.equal(writer.inputs.availabilityZone, "ap-northeast-1a", writer.urn);
            assert.equal(reader.inputs.identifier, `${clusterId}-2`);
            assert.equal(reader.inputs.availabilityZone, "ap-northeast-1c", reader.urn);
            assert.equal(reader.inputs.promotionTier, 0, reader.urn);
            assert.equal(writer.inputs.promotionTier, 1, writer.urn);
            assert.ok(reader.dependencies.includes(writer.urn), "the reader is created after the writer, so the writer is the primary");
            for (const i of instances) {
                assert.deepEqual(deps(i, "clusterIdentifier"), [cluster.urn], i.urn);
                assert.equal(i.parent, cluster.urn, i.urn);
            }
        });

        it(`uses ${prod ? "db.r6g.large" : "db.t4g.medium"} for every instance`, () => {
            for (const i of instances) assert.equal(i.inputs.instanceClass, prod ? "db.r6g.large" : "db.t4g.medium", i.urn);
        });

        it("keeps instances private, on Performance Insights under the key, a current CA and minor upgrades", () => {
            for (const i of instances) {
                assert.equal(i.inputs.publiclyAccessible, false, i.urn);
                assert.equal(i.inputs.performanceInsightsEnabled, true, i.urn);
                assert.equal(i.inputs.performanceInsightsKmsKeyId, key.outputs.arn, i.urn);
                assert.deepEqual(deps(i, "performanceInsightsKmsKeyId"), [key.urn], i.urn);
                assert.equal(i.inputs.performanceInsightsRetentionPeriod, 7, i.urn);
                assert.equal(i.inputs.caCertIdentifier, "rds-ca-rsa2048-g1", i.urn);
                assert.equal(i.inputs.autoMinorVersionUpgrade, true, i.urn);
            }
            assert.equal(cluster.inputs.autoMinorVersionUpgrade, true);
        });

        if (prod) {
            it("protects the cluster, instances and key (only), with deletion protection and a stack-scoped final snapshot", () => {
                assert.equal(cluster.inputs.deletionProtection, true, cluster.urn);
                assert.equal(cluster.inputs.skipFinalSnapshot, false, cluster.urn);
                assert.equal(cluster.inputs.finalSnapshotIdentifier, "backend-db-prod-final", cluster.urn);
                assert.equal(cluster.inputs.deleteAutomatedBackups, false, cluster.urn);
                const guarded = [cluster, key, ...instances].map((r) => r.urn);
                for (const r of underAurora(rec)) assert.equal(r.protect, guarded.includes(r.urn), r.urn);
            });
        } else {
            it("can be destroyed: no protect, no deletion protection, no final snapshot", () => {
                assert.equal(cluster.inputs.deletionProtection, false, cluster.urn);
                assert.equal(cluster.inputs.skipFinalSnapshot, true, cluster.urn);
                assert.equal(cluster.inputs.finalSnapshotIdentifier, undefined, cluster.urn);
                for (const r of underAurora(rec)) assert.equal(r.protect, false, r.urn);
            });
        }

        it(`keeps backups ${prod ? 14 : 1} days in the configured windows, tags copied to snapshots`, () => {
            assert.equal(cluster.inputs.backupRetentionPeriod, prod ? 14 : 1, cluster.urn);
            assert.equal(cluster.inputs.preferredBackupWindow, "17:00-18:00");
            assert.equal(cluster.inputs.preferredMaintenanceWindow, "sun:18:30-sun:19:30");
            assert.equal(cluster.inputs.copyTagsToSnapshot, true);
            for (const i of instances) assert.equal(i.inputs.preferredMaintenanceWindow, "sun:18:30-sun:19:30", i.urn);
        });

        it("puts the cluster in a subnet group of the private subnets only", () => {
            const group = rec.one(T.subnetGroup);
            const privateSubnets = rec.ofType(T.subnet).filter((s) => s.inputs.tags.Tier === "private").map((s) => s.urn).sort();
            assert.equal(privateSubnets.length, 2);
            assert.deepEqual([...deps(group, "subnetIds")].sort(), privateSubnets, group.urn);
            assert.deepEqual(deps(cluster, "dbSubnetGroupName"), [group.urn]);
        });

        it("admits TCP 5432 from the client security group only, with no other ingress and no egress", () => {
            const sg = rec.one(T.sg, "backend-db-sg");
            assert.equal(sg.inputs.ingress, undefined, "no inline ingress");
            assert.equal(sg.inputs.egress, undefined, "no inline egress");
            assert.deepEqual(deps(cluster, "vpcSecurityGroupIds"), [sg.urn]);
            const tasks = rec.one(T.sg, "tasks-sg");
            const rules = rec.ofType(T.ingress).filter((r) => deps(r, "securityGroupId").includes(sg.urn));
            assert.equal(rules.length, 1);
            const [rule] = rules;
            assert.equal(rule.parent, sg.urn);
            assert.deepEqual([rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort], ["tcp", 5432, 5432], rule.urn);
            assert.equal(rule.inputs.referencedSecurityGroupId, tasks.id);
            assert.deepEqual(deps(rule, "referencedSecurityGroupId"), [tasks.urn]);
            for (const wide of ["cidrIpv4", "cidrIpv6", "prefixListId"]) assert.equal(rule.inputs[wide], undefined, wide);
            assert.deepEqual(rec.ofType(T.egress).filter((r) => deps(r, "securityGroupId").includes(sg.urn)), []);
        });

        it(`creates the PostgreSQL log group with ${prod ? 30 : 7}-day retention before the cluster`, () => {
            const group = rec.one(T.logGroup, "postgresql-logs");
            assert.equal(group.inputs.name, `/aws/rds/cluster/${clusterId}/postgresql`);
            assert.equal(group.inputs.retentionInDays, prod ? 30 : 7);
            assert.ok(cluster.dependencies.includes(group.urn), "the cluster depends on the log group");
            assert.deepEqual(cluster.inputs.enabledCloudwatchLogsExports, ["postgresql"]);
        });

        if (prod) {
            it("scales readers 1–3 on average reader CPU", () => {
                const target = rec.one(T.scalingTarget);
                assert.deepEqual(
                    [target.inputs.serviceNamespace, target.inputs.scalableDimension, target.inputs.resourceId, target.inputs.minCapacity, target.inputs.maxCapacity],
                    ["rds", "rds:cluster:ReadReplicaCount", "cluster:backend-db-prod", 1, 3], target.urn);
                for (const i of instances) assert.ok(target.dependencies.includes(i.urn), `target waits for ${i.urn}`);
                const policy = rec.one(T.scalingPolicy);
                assert.equal(policy.inputs.policyType, "TargetTrackingScaling");
                assert.equal(policy.inputs.resourceId, "cluster:backend-db-prod");
                const tracking = policy.inputs.targetTrackingScalingPolicyConfiguration;
                assert.equal(tracking.predefinedMetricSpecification.predefinedMetricType, "RDSReaderAverageCPUUtilization");
                assert.equal(tracking.targetValue, 70);
                assert.equal(tracking.scaleInCooldown, 300);
                assert.equal(tracking.scaleOutCooldown, 300);
            });
        } else {
            it("does not scale readers", () => {
                assert.deepEqual(rec.ofType(T.scalingTarget), []);
                assert.deepEqual(rec.ofType(T.scalingPolicy), []);
            });
        }

        it("exposes the outputs other components and operators need", async () => {
            assert.match(await valueOf(aurora.writerEndpoint), new RegExp(`^${clusterId}\\.cluster-[0-9a-f]+\\.ap-northeast-1\\.rds\\.amazonaws\\.com$`));
            assert.match(await valueOf(aurora.readerEndpoint), new RegExp(`^${clusterId}\\.cluster-ro-`));
            assert.equal(await valueOf(aurora.port), 5432);
            assert.equal(await valueOf(aurora.databaseName), "backend");
            assert.match(await valueOf(aurora.secretArn), /^arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!cluster-/);
            assert.equal(await valueOf(aurora.kmsKeyArn), key.outputs.arn);
            assert.equal(await valueOf(aurora.securityGroupId), rec.one(T.sg, "backend-db-sg").id);
            assert.equal(await valueOf(aurora.clusterIdentifier), clusterId);
            assert.equal(await valueOf(aurora.writerInstanceIdentifier), `${clusterId}-1`);
            assert.deepEqual(await valueOf(aurora.readerInstanceIdentifiers), [`${clusterId}-2`]);
            assert.equal(await valueOf(aurora.logGroupName), `/aws/rds/cluster/${clusterId}/postgresql`);
            assert.deepEqual(Object.keys(rec.one(T.component).outputs).sort(), [
                "clusterIdentifier", "databaseName", "kmsKeyArn", "logGroupName", "port", "readerEndpoint",
                "readerInstanceIdentifiers", "secretArn", "securityGroupId", "writerEndpoint", "writerInstanceIdentifier",
            ]);
        });
    });
}

describe("Aurora placement over three AZs (prod, 2 readers)", () => {
    it("spreads readers over AZ-2 and AZ-3, never the writer's AZ", async () => {
        const { recorder } = await buildDatabase("prod", {
            "backend-infra:availabilityZoneCount": "3",
            "backend-infra:dbReaderCount": "2",
        });
        const zones = recorder.ofType(T.instance).map((i) => [i.inputs.identifier, i.inputs.availabilityZone]);
        assert.deepEqual(zones, [
            ["backend-db-prod-1", "ap-northeast-1a"],
            ["backend-db-prod-2", "ap-northeast-1c"],
            ["backend-db-prod-3", "ap-northeast-1d"],
        ]);
    });
});

describe("Aurora endpoints", () => {
    it("resolve only after the instances exist, so a client waits for a database it can reach", async () => {
        const { recorder } = await runUnderMocks("dev", (s) => {
            const network = new Network("backend", { ...s.network, stack: s.stack, region: s.region });
            const aurora = new Aurora("backend-db", auroraArgs(s, network));
            // A stand-in client: what its inputs depend on is what the engine waits for.
            new aws.ssm.Parameter("client", { type: "String", value: pulumi.interpolate`${aurora.writerEndpoint} ${aurora.readerEndpoint}` });
        });
        const client = recorder.one("aws:ssm/parameter:Parameter");
        const deps = client.propertyDependencies.value ?? [];
        const instances = recorder.ofType(T.instance).map((r) => r.urn);
        assert.equal(instances.length, 2);
        for (const urn of instances) assert.ok(deps.includes(urn), `client does not wait for ${urn}: ${deps.join(", ")}`);
    });
});

describe("Aurora argument validation", () => {
    it("refuses a stack name RDS cannot use in identifiers, before creating any AWS resource", async () => {
        let error: Error | undefined;
        const { recorder } = await runUnderMocks("dev", (s) => {
            const network = new Network("backend", { ...s.network, stack: s.stack, region: s.region });
            try {
                new Aurora("backend-db", auroraArgs(s, network, "Dev_1"));
            } catch (e) {
                error = e as Error;
            }
        });
        assert.match(String(error?.message), /clusterIdentifier \(<name>-<stack>\) "backend-db-Dev_1" is not a valid RDS identifier/);
        const component = recorder.one(T.component);
        assert.deepEqual(recorder.resources.filter((r) => r.parent === component.urn), []);
    });
});
