// Aurora: an encrypted Aurora PostgreSQL cluster, writer in the first AZ and readers after it,
// reachable only from the security groups handed to `allowClient`.
//
// Dependency cycle with the Service: the DB security group is created with no rules at all, and
// each client is admitted later by `allowClient`, a separate ingress rule (TCP 5432 from one
// security group). index.ts calls it once the Service's task security group exists.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountAdministersKey, AccountContext } from "./kms-key-policy";

/**
 * Aurora PostgreSQL 17.6: a current minor of the newest major Aurora offers, on which both instance
 * classes this project uses exist (db.t4g.medium for dev, db.r6g.large for prod; Graviton classes
 * are listed for "17.4 and higher"). It must be a version `aws rds describe-db-engine-versions
 * --engine aurora-postgresql` lists in the stack's region.
 */
export const AURORA_POSTGRES_VERSION = "17.6";
/** Parameter group family of that major version. */
export const AURORA_POSTGRES_FAMILY = `aurora-postgresql${AURORA_POSTGRES_VERSION.split(".")[0]}`;
/** Current RDS CA (RSA 2048, valid to 2061); clients verify against the RDS global bundle. */
export const RDS_CA = "rds-ca-rsa2048-g1";
export const POSTGRES_PORT = 5432;
/** Days of Performance Insights history kept; 7 is the free tier. */
const PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7;
const SCALING_COOLDOWN_SECONDS = 300;

export interface AuroraArgs {
    /** Instance class of the writer and every reader (validated by config.ts against what Aurora PostgreSQL offers). */
    dbInstanceClass: string;
    /** Readers besides the writer (0–15), placed round-robin over the AZs after the writer's. */
    dbReaderCount: number;
    /** Automated backup retention, days (1–35). */
    dbBackupRetentionDays: number;
    /** Daily backup window, UTC ("hh:mm-hh:mm"); must not overlap the maintenance window. */
    dbBackupWindow: string;
    /** Weekly maintenance window, UTC ("ddd:hh:mm-ddd:hh:mm"), for the cluster and every instance. */
    dbMaintenanceWindow: string;
    /** Name of the application database created with the cluster. */
    dbName: string;
    /** Master user name; its password is generated and rotated by RDS in Secrets Manager, never set here. */
    dbMasterUsername: string;
    /** Statements slower than this many ms are logged (log_min_duration_statement); 0 logs every statement. */
    dbSlowQueryMs: number;
    /** Scale the reader count on reader CPU with Application Auto Scaling. No scaling resources when false. */
    dbReaderAutoScaling: boolean;
    /** Fewest readers auto scaling keeps (counts the readers created here). Ignored without dbReaderAutoScaling. */
    dbReaderMinCount: number;
    /** Most readers auto scaling may run. Ignored without dbReaderAutoScaling. */
    dbReaderMaxCount: number;
    /** Average reader CPU (%) auto scaling tracks. Ignored without dbReaderAutoScaling. */
    dbReaderCpuTarget: number;
    /**
     * true (prod): `protect` on the cluster, instances and KMS key, deletion protection, a final
     * snapshot and automated backups kept after deletion. false (dev): destroyable without a snapshot.
     */
    protect: boolean;
    /** Stack name; scopes the cluster, instance, snapshot and alias names so stacks can share an account. */
    stack: string;
    /** Region of the stack, for the key policy's kms:ViaService conditions. */
    region: string;
    /** VPC of the DB security group. */
    vpcId: pulumi.Input<string>;
    /** Private subnets (one per AZ) for the DB subnet group; never public ones. */
    privateSubnetIds: pulumi.Input<string[]>;
    /** AZs of those subnets, in order: the writer goes to the first, readers to the others (at least 2). */
    availabilityZones: pulumi.Input<string[]>;
    /** Retention of the PostgreSQL log group, in days (a value CloudWatch accepts). */
    logRetentionDays: number;
}

/**
 * Returns `value` if RDS accepts it as an identifier (cluster, instance, snapshot): a letter first,
 * then letters, digits and single hyphens, no trailing hyphen, at most `maxLength` characters.
 * RDS stores identifiers lower-case, so upper case is refused rather than silently changed.
 */
export function rdsIdentifier(property: string, value: string, maxLength = 63): string {
    if (value.length > maxLength || !/^[a-z](-?[a-z0-9])*$/.test(value)) {
        throw new Error(`Aurora: ${property} "${value}" is not a valid RDS identifier ` +
            `(lower-case letter first, then a-z, 0-9 and single hyphens, no trailing hyphen, at most ${maxLength} characters)`);
    }
    return value;
}

/** Writer in the first AZ; reader i in AZ 2, 3, … round-robin, never the writer's AZ. */
export function instancePlacement(zones: readonly string[], readerCount: number): { writer: string; readers: string[] } {
    if (zones.length < 2) {
        throw new Error(`Aurora: availabilityZones must list at least 2 AZs (writer and readers apart), got ${zones.length}`);
    }
    const readerZones = zones.slice(1);
    return { writer: zones[0], readers: Array.from({ length: readerCount }, (_, i) => readerZones[i % readerZones.length]) };
}

export type KeyPolicyContext = AccountContext;

export interface KeyPolicyStatement {
    Sid: string;
    Effect: "Allow";
    Principal: { AWS: string };
    Action: string[];
    Resource: "*";
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface KeyPolicy {
    Version: "2012-10-17";
    Statement: KeyPolicyStatement[];
}

/**
 * The DB key's policy. The account root administers the key but cannot encrypt or decrypt with it
 * directly. Use is allowed only to principals of this account (kms:CallerAccount), and only through
 * RDS (storage, Performance Insights) or Secrets Manager (the master user secret) in this region
 * (kms:ViaService): the shape of AWS's own aws/rds and aws/secretsmanager keys, so RDS's
 * service-linked role can rotate the secret and a task role needs no kms statement to read it.
 * Grants only for AWS resources (kms:GrantIsForAWSResource), which is how RDS holds on to the key.
 */
export function auroraKeyPolicy(ctx: KeyPolicyContext): KeyPolicy {
    const viaServices = ["rds", "secretsmanager"].map((s) => `${s}.${ctx.region}.${ctx.dnsSuffix}`);
    const inAccountVia = {
        "kms:CallerAccount": ctx.accountId,
        "kms:ViaService": viaServices,
    };
    return {
        Version: "2012-10-17",
        Statement: [
            accountAdministersKey(ctx),
            {
                Sid: "UseThroughRdsAndSecretsManager",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: [
                    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                    "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey",
                ],
                Resource: "*",
                Condition: { StringEquals: inAccountVia },
            },
            {
                Sid: "GrantsForAwsResourcesOnly",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                Resource: "*",
                Condition: { StringEquals: inAccountVia, Bool: { "kms:GrantIsForAWSResource": "true" } },
            },
        ],
    };
}

export class Aurora extends pulumi.ComponentResource {
    public readonly writerEndpoint: pulumi.Output<string>;
    public readonly readerEndpoint: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly databaseName: pulumi.Output<string>;
    /** ARN of the RDS-managed master user secret (JSON with username and password), encrypted with the DB key. */
    public readonly secretArn: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    /** CloudWatch dimension DBClusterIdentifier. */
    public readonly clusterIdentifier: pulumi.Output<string>;
    /** CloudWatch dimension DBInstanceIdentifier of the instance created as writer (roles swap after a failover). */
    public readonly writerInstanceIdentifier: pulumi.Output<string>;
    /** DBInstanceIdentifier of each reader created here (not those auto scaling adds). */
    public readonly readerInstanceIdentifiers: pulumi.Output<string[]>;
    /** The PostgreSQL log group RDS exports to. */
    public readonly logGroupName: pulumi.Output<string>;

    private readonly componentName: string;
    private readonly securityGroup: aws.ec2.SecurityGroup;

    constructor(name: string, args: AuroraArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backend-infra:database:Aurora", name, {}, opts);
        if (!Number.isInteger(args.dbReaderCount) || args.dbReaderCount < 0) {
            throw new Error(`Aurora ${name}: dbReaderCount must be a whole number ≥ 0, got ${args.dbReaderCount}`);
        }
        const clusterId = rdsIdentifier("clusterIdentifier (<name>-<stack>)", `${name}-${args.stack}`);
        const finalSnapshotId = rdsIdentifier("finalSnapshotIdentifier", `${clusterId}-final`, 255);
        // Numbered, not named writer/reader: the roles swap after a failover, the names would not.
        const instanceIds = Array.from({ length: 1 + args.dbReaderCount }, (_, i) => rdsIdentifier("instance identifier", `${clusterId}-${i + 1}`));
        this.componentName = name;
        const parent = { parent: this };
        // Only the cluster, its instances and the key; children would inherit it, so the others say false.
        const protect = args.protect;

        const account = aws.getCallerIdentityOutput({}, parent);
        const partition = aws.getPartitionOutput({}, parent);
        const key = new aws.kms.Key(`${name}-key`, {
            description: `Aurora ${clusterId}: storage, Performance Insights and the master user secret`,
            enableKeyRotation: true,
            deletionWindowInDays: protect ? 30 : 7,
            policy: pulumi.all([account.accountId, partition.partition, partition.dnsSuffix]).apply(([accountId, part, dnsSuffix]) =>
                JSON.stringify(auroraKeyPolicy({ accountId, partition: part, region: args.region, dnsSuffix }))),
        }, { parent: this, protect });
        new aws.kms.Alias(`${name}-key-alias`, {
            name: `alias/${clusterId}`,
            targetKeyId: key.keyId,
        }, { parent: key, protect: false });

        // No rules here: clients are admitted by allowClient. No egress either: the database never
        // opens connections, and the provider drops AWS's default allow-all egress rule.
        this.securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
            vpcId: args.vpcId,
            description: `Aurora ${clusterId}: PostgreSQL from admitted client security groups only`,
            tags: { Name: `${clusterId}-db` },
        }, parent);

        const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
            description: `Aurora ${clusterId}: private subnets only`,
            subnetIds: args.privateSubnetIds,
        }, parent);

        // New instances start with the group's values whatever the apply method. rds.force_ssl uses
        // pending-reboot, which RDS accepts for static and dynamic parameters alike (AWS's docs do
        // not state its apply type for Aurora PostgreSQL 17, and "immediate" on a static parameter
        // fails the create); the slow-query threshold is dynamic, so a later change applies at once.
        const parameterGroup = new aws.rds.ClusterParameterGroup(`${name}-params`, {
            family: AURORA_POSTGRES_FAMILY,
            description: `Aurora ${clusterId}: TLS required, slow statements logged`,
            parameters: [
                { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
                { name: "log_min_duration_statement", value: String(args.dbSlowQueryMs), applyMethod: "immediate" },
            ],
        }, parent);

        // Created before the cluster: otherwise RDS creates it on first export, with no retention.
        const logGroup = new aws.cloudwatch.LogGroup(`${name}-postgresql-logs`, {
            name: `/aws/rds/cluster/${clusterId}/postgresql`,
            retentionInDays: args.logRetentionDays,
        }, parent);

        const cluster = new aws.rds.Cluster(`${name}-cluster`, {
            clusterIdentifier: clusterId,
            engine: aws.rds.EngineType.AuroraPostgresql,
            engineMode: "provisioned",
            engineVersion: AURORA_POSTGRES_VERSION,
            autoMinorVersionUpgrade: true,
            databaseName: args.dbName,
            masterUsername: args.dbMasterUsername,
            manageMasterUserPassword: true,
            masterUserSecretKmsKeyId: key.arn,
            storageEncrypted: true,
            kmsKeyId: key.arn,
            port: POSTGRES_PORT,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [this.securityGroup.id],
            dbClusterParameterGroupName: parameterGroup.name,
            enabledCloudwatchLogsExports: ["postgresql"],
            backupRetentionPeriod: args.dbBackupRetentionDays,
            preferredBackupWindow: args.dbBackupWindow,
            preferredMaintenanceWindow: args.dbMaintenanceWindow,
            copyTagsToSnapshot: true,
            deletionProtection: protect,
            skipFinalSnapshot: !protect,
            finalSnapshotIdentifier: protect ? finalSnapshotId : undefined,
            deleteAutomatedBackups: !protect,
        }, {
            parent: this,
            protect,
            dependsOn: [logGroup],
            // RDS applies minor upgrades in the maintenance window; comparing the running version
            // with the pin would then plan a downgrade, which RDS refuses. To upgrade on purpose,
            // raise the pin (and family for a major) and drop this line for that one update.
            ignoreChanges: ["engineVersion"],
        });

        const placement = pulumi.output(args.availabilityZones).apply((zones) => instancePlacement(zones, args.dbReaderCount));
        const instance = (resourceName: string, identifier: string, availabilityZone: pulumi.Input<string>, promotionTier: number, dependsOn: pulumi.Resource[]) =>
            new aws.rds.ClusterInstance(resourceName, {
                identifier,
                clusterIdentifier: cluster.id,
                engine: aws.rds.EngineType.AuroraPostgresql,
                instanceClass: args.dbInstanceClass,
                availabilityZone,
                promotionTier,
                dbSubnetGroupName: subnetGroup.name,
                publiclyAccessible: false,
                autoMinorVersionUpgrade: true,
                caCertIdentifier: RDS_CA,
                preferredMaintenanceWindow: args.dbMaintenanceWindow,
                copyTagsToSnapshot: true,
                performanceInsightsEnabled: true,
                performanceInsightsKmsKeyId: key.arn,
                performanceInsightsRetentionPeriod: PERFORMANCE_INSIGHTS_RETENTION_DAYS,
            }, { parent: cluster, protect, dependsOn });

        // The first instance of a cluster becomes its writer, so readers wait for it. Readers get
        // tier 0 (promoted first on failover); the writer tier 1 for when it comes back as a reader.
        const writer = instance(`${name}-writer`, instanceIds[0], placement.writer, 1, []);
        const readers = instanceIds.slice(1).map((id, i) =>
            instance(`${name}-reader-${i + 1}`, id, placement.readers.apply((zones) => zones[i]), 0, [writer]));

        if (args.dbReaderAutoScaling) {
            // Registered once the instances exist: Aurora scales only an available cluster with a writer.
            const target = new aws.appautoscaling.Target(`${name}-readers`, {
                serviceNamespace: "rds",
                scalableDimension: "rds:cluster:ReadReplicaCount",
                resourceId: pulumi.interpolate`cluster:${cluster.clusterIdentifier}`,
                minCapacity: args.dbReaderMinCount,
                maxCapacity: args.dbReaderMaxCount,
            }, { parent: cluster, protect: false, dependsOn: [writer, ...readers] });
            new aws.appautoscaling.Policy(`${name}-reader-cpu`, {
                policyType: "TargetTrackingScaling",
                serviceNamespace: target.serviceNamespace,
                scalableDimension: target.scalableDimension,
                resourceId: target.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "RDSReaderAverageCPUUtilization" },
                    targetValue: args.dbReaderCpuTarget,
                    scaleInCooldown: SCALING_COOLDOWN_SECONDS,
                    scaleOutCooldown: SCALING_COOLDOWN_SECONDS,
                },
            }, { parent: target });
        }

        // The cluster endpoints exist before any instance does; resolving them after the instances
        // makes the Service (and anything else connecting) wait until there is a database to reach.
        this.writerEndpoint = pulumi.all([cluster.endpoint, writer.id]).apply(([endpoint]) => endpoint);
        this.readerEndpoint = pulumi.all([cluster.readerEndpoint, ...readers.map((r) => r.id)]).apply(([endpoint]) => endpoint);
        this.port = cluster.port;
        this.databaseName = cluster.databaseName;
        this.secretArn = cluster.masterUserSecrets.apply((secrets) => {
            if (!secrets?.[0]?.secretArn) throw new Error(`Aurora ${name}: RDS returned no master user secret`);
            return secrets[0].secretArn;
        });
        this.kmsKeyArn = key.arn;
        this.securityGroupId = this.securityGroup.id;
        this.clusterIdentifier = cluster.clusterIdentifier;
        this.writerInstanceIdentifier = writer.identifier;
        this.readerInstanceIdentifiers = pulumi.all(readers.map((r) => r.identifier));
        this.logGroupName = logGroup.name;
        this.registerOutputs({
            writerEndpoint: this.writerEndpoint,
            readerEndpoint: this.readerEndpoint,
            port: this.port,
            databaseName: this.databaseName,
            secretArn: this.secretArn,
            kmsKeyArn: this.kmsKeyArn,
            securityGroupId: this.securityGroupId,
            clusterIdentifier: this.clusterIdentifier,
            writerInstanceIdentifier: this.writerInstanceIdentifier,
            readerInstanceIdentifiers: this.readerInstanceIdentifiers,
            logGroupName: this.logGroupName,
        });
    }

    /**
     * Admits PostgreSQL (TCP 5432) from one security group, as its own rule under the DB security
     * group. `name` distinguishes the rule (e.g. "service-tasks"); call once per client group.
     */
    allowClient(name: string, sourceSecurityGroupId: pulumi.Input<string>): aws.vpc.SecurityGroupIngressRule {
        return new aws.vpc.SecurityGroupIngressRule(`${this.componentName}-from-${name}`, {
            securityGroupId: this.securityGroup.id,
            description: `PostgreSQL from ${name}`,
            ipProtocol: "tcp",
            fromPort: POSTGRES_PORT,
            toPort: POSTGRES_PORT,
            referencedSecurityGroupId: sourceSecurityGroupId,
        }, { parent: this.securityGroup });
    }
}
