// LogPipeline: where the backend's logs land, and the FireLens router image that sends them there.
//
// The S3 log bucket (router objects under logs/, ALB access logs under alb/), the CloudWatch Logs
// groups for ERROR+ records and for the router's own output, the ECR repository of the Fluent Bit
// image and the image itself, built from fluent-bit/ and pushed by digest. The Service reads the
// router's environment and the IAM grants from here, so the task definition cannot drift from the
// Fluent Bit config (fluent-bit/contract.ts is the shared source of names).
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { imageRepository } from "./ecr-repository";
import { routerEnvironment, S3_KEY_PREFIX } from "../fluent-bit/contract";

export type CpuArchitecture = "X86_64" | "ARM64";

export interface LogPipelineArgs {
    /** Stack name; scopes every account-unique name (bucket, log groups, repository). Lower-case letters, digits and hyphens. */
    stack: string;
    /** Region of the bucket and log groups; part of the bucket name and the router's AWS_REGION. */
    region: string;
    /** true (prod): the bucket and its settings get `protect` and `retainOnDelete`. false (dev): the bucket is force-destroyed with its objects and the repository with its images. */
    protect: boolean;
    /** Retention of both log groups, in days (a value CloudWatch accepts). */
    logRetentionDays: number;
    /** Days after which log objects move to Glacier Flexible Retrieval. */
    logArchiveAfterDays: number;
    /** Days after which log objects are deleted; must exceed logArchiveAfterDays. Applies to every object in the bucket. */
    logExpireAfterDays: number;
    /** Days after which noncurrent object versions are deleted. */
    logNoncurrentExpireAfterDays: number;
    /** CPU architecture of the task; the router image is built for the matching linux platform. */
    cpuArchitecture: CpuArchitecture;
}

/** One IAM policy statement, as the Service puts it into a role policy. */
export interface IamStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: string[];
}

/** Key prefix the Service gives the ALB's access_logs; ELB appends /AWSLogs/<account-id>/... */
export const ALB_ACCESS_LOG_PREFIX = "alb";

/**
 * ELB's log-delivery service principal. AWS's ALB access-log page recommends it for every Region;
 * Regions older than August 2022 (like ap-northeast-1) also accept the regional ELB account, which
 * the policy names too so delivery works whichever one ELB uses there on the first deploy.
 */
export const ELB_LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com";

/** Incomplete multipart uploads are aborted after this many days (the router uses PutObject; this catches anything else). */
export const ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7;

/** Images the router repository keeps, newest first; ECR expires the rest. */
export const ROUTER_IMAGES_KEPT = 5;

/** The Docker build context of the router image. */
export const FLUENT_BIT_DIR = path.join(__dirname, "..", "fluent-bit");

const S3_BUCKET_NAME_MAX = 63;
const STACK_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** Longest region name in use today (ap-southeast-5 … eu-central-2 are 14 characters or less). */
const REGION_NAME_MAX = 14;
const ACCOUNT_ID_LENGTH = 12;

/** The bucket name for a stack; the account ID and region make it globally unique. */
export function logBucketName(stack: string, accountId: string, region: string): string {
    return `backend-${stack}-logs-${accountId}-${region}`;
}

/** Docker platform for an ECS CPU architecture. */
export function dockerPlatform(arch: CpuArchitecture): "linux/amd64" | "linux/arm64" {
    return arch === "ARM64" ? "linux/arm64" : "linux/amd64";
}

/**
 * Image tag derived from everything the Docker provider hashes into its context digest (every
 * file under `dir` with its relative path and permission bits) plus the platform. The tag must
 * change whenever the provider sees a change: the provider then pushes `imageName` again, and the
 * IMMUTABLE repository rejects a second push of an existing tag.
 */
export function contentTag(dir: string, platform: string): string {
    const hash = crypto.createHash("sha256").update(`platform=${platform}\0`);
    for (const file of filesUnder(dir)) {
        const full = path.join(dir, file);
        const stat = fs.lstatSync(full);
        hash.update(`${file}\0${(stat.mode & 0o777).toString(8)}\0`);
        hash.update(stat.isSymbolicLink() ? fs.readlinkSync(full) : fs.readFileSync(full));
        hash.update("\0");
    }
    return `${hash.digest("hex").slice(0, 20)}-${platform.split("/")[1]}`;
}

/** Files under `dir`, relative POSIX paths, sorted so the hash does not depend on readdir order. */
function filesUnder(dir: string, prefix = ""): string[] {
    return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })
        .flatMap((entry) => {
            const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
            return entry.isDirectory() ? filesUnder(dir, rel) : [rel];
        })
        .sort();
}

/** Rejects Args that would fail in AWS later. Throws naming the property. */
export function validateLogPipelineArgs(name: string, args: LogPipelineArgs): void {
    if (!STACK_NAME.test(args.stack)) {
        throw new Error(`LogPipeline ${name}: stack "${args.stack}" must be lower-case letters, digits and single hyphens (it is part of S3 and ECR names)`);
    }
    const longest = logBucketName(args.stack, "0".repeat(ACCOUNT_ID_LENGTH), "x".repeat(Math.max(REGION_NAME_MAX, args.region.length)));
    if (longest.length > S3_BUCKET_NAME_MAX) {
        throw new Error(`LogPipeline ${name}: stack "${args.stack}" is too long: the bucket name ${logBucketName(args.stack, "<account-id>", args.region)} would exceed ${S3_BUCKET_NAME_MAX} characters`);
    }
    if (args.logExpireAfterDays <= args.logArchiveAfterDays) {
        throw new Error(`LogPipeline ${name}: logExpireAfterDays (${args.logExpireAfterDays}) must be greater than logArchiveAfterDays (${args.logArchiveAfterDays})`);
    }
}

export class LogPipeline extends pulumi.ComponentResource {
    /** The bucket's name, available once its policy (TLS only, ALB delivery) is attached. */
    public readonly bucketName: pulumi.Output<string>;
    public readonly bucketArn: pulumi.Output<string>;
    /** Prefix for the ALB's access_logs (the bucket policy admits ELB delivery under it only). */
    public readonly albAccessLogPrefix: string;
    public readonly errorLogGroupName: pulumi.Output<string>;
    public readonly errorLogGroupArn: pulumi.Output<string>;
    /** Group for the router container's own output (its awslogs driver). */
    public readonly routerLogGroupName: pulumi.Output<string>;
    public readonly routerLogGroupArn: pulumi.Output<string>;
    public readonly repositoryUrl: pulumi.Output<string>;
    public readonly repositoryArn: pulumi.Output<string>;
    /** The pushed router image by digest (`<repositoryUrl>@sha256:…`), for the task definition. */
    public readonly imageRef: pulumi.Output<string>;
    /** The router container's environment: exactly the variables the Fluent Bit config reads. */
    public readonly routerEnvironment: pulumi.Output<{ name: string; value: string }[]>;
    /** Grants for the task role: what the router writes (log objects, error log events). */
    public readonly taskRoleStatements: pulumi.Output<IamStatement[]>;
    /** Grants for the execution role: pulling the router image and its own awslogs output. ecr:GetAuthorizationToken (resource `*`) is not here: it comes from AmazonECSTaskExecutionRolePolicy. */
    public readonly executionRoleStatements: pulumi.Output<IamStatement[]>;

    constructor(name: string, args: LogPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backend-infra:logs:LogPipeline", name, {}, opts);
        validateLogPipelineArgs(name, args);
        const parent = { parent: this };
        const accountId = aws.getCallerIdentityOutput({}, parent).accountId;

        // --- S3 log bucket -------------------------------------------------------------------
        // The bucket and the settings that keep it private and encrypted share its protection, so
        // a retained prod bucket keeps them too.
        const bucket = new aws.s3.Bucket(`${name}-bucket`, {
            bucket: accountId.apply((id) => logBucketName(args.stack, id, args.region)),
            forceDestroy: !args.protect,
            // DataClass=logs tells the policy pack this bucket holds logs, whatever its lifecycle rules say.
            tags: { Name: `${name}-bucket`, DataClass: "logs" },
        }, { parent: this, protect: args.protect, retainOnDelete: args.protect });
        const bucketSetting = { parent: bucket, protect: args.protect, retainOnDelete: args.protect };

        // SSE-S3 explicitly: the only encryption ALB access-log delivery accepts.
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-bucket-encryption`, {
            bucket: bucket.bucket,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
        }, bucketSetting);
        const versioning = new aws.s3.BucketVersioning(`${name}-bucket-versioning`, {
            bucket: bucket.bucket,
            versioningConfiguration: { status: "Enabled" },
        }, bucketSetting);
        const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-bucket-public-access`, {
            bucket: bucket.bucket,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, bucketSetting);
        const ownership = new aws.s3.BucketOwnershipControls(`${name}-bucket-ownership`, {
            bucket: bucket.bucket,
            rule: { objectOwnership: "BucketOwnerEnforced" },
        }, bucketSetting);

        const archiveThenExpire = (id: string, prefix: string): aws.types.input.s3.BucketLifecycleConfigurationRule => ({
            id,
            status: "Enabled",
            filter: { prefix },
            transitions: [{ days: args.logArchiveAfterDays, storageClass: "GLACIER" }],
            expiration: { days: args.logExpireAfterDays },
        });
        new aws.s3.BucketLifecycleConfiguration(`${name}-bucket-lifecycle`, {
            bucket: bucket.bucket,
            rules: [
                archiveThenExpire("router-logs", S3_KEY_PREFIX),
                archiveThenExpire("alb-access-logs", `${ALB_ACCESS_LOG_PREFIX}/`),
                {
                    // Whole bucket (empty filter): nothing outlives the expiry, old versions and
                    // abandoned uploads do not accumulate.
                    id: "whole-bucket",
                    status: "Enabled",
                    filter: {},
                    expiration: { days: args.logExpireAfterDays },
                    noncurrentVersionExpiration: { noncurrentDays: args.logNoncurrentExpireAfterDays },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS },
                },
            ],
        }, { ...bucketSetting, dependsOn: [versioning] });

        // One policy for the bucket: TLS only, and ELB may deliver this account's ALB logs under the prefix.
        const elbAccountArn = aws.elb.getServiceAccountOutput({}, parent).arn;
        const policy = new aws.s3.BucketPolicy(`${name}-bucket-policy`, {
            bucket: bucket.bucket,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "DenyInsecureTransport",
                        Effect: "Deny",
                        Principal: "*",
                        Action: "s3:*",
                        Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                    {
                        Sid: "AllowAlbAccessLogDelivery",
                        Effect: "Allow",
                        Principal: { AWS: elbAccountArn, Service: ELB_LOG_DELIVERY_PRINCIPAL },
                        Action: "s3:PutObject",
                        Resource: pulumi.interpolate`${bucket.arn}/${ALB_ACCESS_LOG_PREFIX}/AWSLogs/${accountId}/*`,
                    },
                ],
            }),
        }, { ...bucketSetting, dependsOn: [publicAccess, ownership] });

        // --- Log groups ----------------------------------------------------------------------
        const errorLogGroup = new aws.cloudwatch.LogGroup(`${name}-errors`, {
            name: `/ecs/backend-${args.stack}/errors`,
            retentionInDays: args.logRetentionDays,
            tags: { Name: `${name}-errors` },
        }, parent);
        const routerLogGroup = new aws.cloudwatch.LogGroup(`${name}-router`, {
            name: `/ecs/backend-${args.stack}/firelens`,
            retentionInDays: args.logRetentionDays,
            tags: { Name: `${name}-router` },
        }, parent);

        // --- Router image ----------------------------------------------------------------------
        const repository = imageRepository(`${name}-router-repo`, {
            repositoryName: `backend-${args.stack}/fluent-bit`,
            imagesKept: ROUTER_IMAGES_KEPT,
            protect: args.protect,
        }, parent);

        const platform = dockerPlatform(args.cpuArchitecture);
        // Relative to the project root (the CLI runs the program and the Docker provider there): an
        // absolute path would differ between machines, and the provider would rebuild and re-push
        // the same immutable tag.
        const context = path.relative(process.cwd(), FLUENT_BIT_DIR) || ".";
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, parent);
        const image = new docker.Image(`${name}-router-image`, {
            imageName: pulumi.interpolate`${repository.repositoryUrl}:${contentTag(FLUENT_BIT_DIR, platform)}`,
            build: { context, dockerfile: path.join(context, "Dockerfile"), platform },
            registry: {
                server: repository.repositoryUrl,
                username: token.userName,
                password: pulumi.secret(token.password),
            },
        }, { parent: repository });

        // --- Outputs ---------------------------------------------------------------------------
        // Resolves once the bucket policy is in place: ELB checks it when the ALB's access logging is
        // turned on, so an ALB that takes this name is created after the policy.
        this.bucketName = pulumi.all([bucket.bucket, policy.id]).apply(([bucketName]) => bucketName);
        this.bucketArn = bucket.arn;
        this.albAccessLogPrefix = ALB_ACCESS_LOG_PREFIX;
        this.errorLogGroupName = errorLogGroup.name;
        this.errorLogGroupArn = errorLogGroup.arn;
        this.routerLogGroupName = routerLogGroup.name;
        this.routerLogGroupArn = routerLogGroup.arn;
        this.repositoryUrl = repository.repositoryUrl;
        this.repositoryArn = repository.arn;
        this.imageRef = image.repoDigest;
        this.routerEnvironment = pulumi.output(routerEnvironment({
            region: pulumi.output(args.region),
            bucket: this.bucketName,
            errorLogGroup: errorLogGroup.name,
        }));
        this.taskRoleStatements = statements([
            {
                // PutObject only: the s3 output runs with use_put_object On (no multipart, no reads).
                Sid: "RouterPutLogObjects",
                Effect: "Allow",
                Action: ["s3:PutObject"],
                Resource: [pulumi.interpolate`${bucket.arn}/${S3_KEY_PREFIX}*`],
            },
            {
                // auto_create_group Off: the group exists, so no logs:CreateLogGroup.
                Sid: "RouterWriteErrorLogs",
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: logGroupResources(errorLogGroup),
            },
        ]);
        this.executionRoleStatements = statements([
            {
                Sid: "PullRouterImage",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                Resource: [repository.arn],
            },
            {
                Sid: "RouterOwnLogs",
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: logGroupResources(routerLogGroup),
            },
        ]);

        this.registerOutputs({
            bucketName: this.bucketName,
            bucketArn: this.bucketArn,
            albAccessLogPrefix: this.albAccessLogPrefix,
            errorLogGroupName: this.errorLogGroupName,
            errorLogGroupArn: this.errorLogGroupArn,
            routerLogGroupName: this.routerLogGroupName,
            routerLogGroupArn: this.routerLogGroupArn,
            repositoryUrl: this.repositoryUrl,
            repositoryArn: this.repositoryArn,
            imageRef: this.imageRef,
            routerEnvironment: this.routerEnvironment,
            taskRoleStatements: this.taskRoleStatements,
            executionRoleStatements: this.executionRoleStatements,
        });
    }
}

/** Statements whose resource ARNs are still outputs. */
function statements(list: Array<Omit<IamStatement, "Resource"> & { Resource: pulumi.Input<string>[] }>): pulumi.Output<IamStatement[]> {
    return pulumi.output(list);
}

/** A log group and its streams: CreateLogStream/DescribeLogStreams act on the group, PutLogEvents on a stream. */
function logGroupResources(group: aws.cloudwatch.LogGroup): pulumi.Output<string>[] {
    return [group.arn, pulumi.interpolate`${group.arn}:log-stream:*`];
}
