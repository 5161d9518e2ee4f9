// The Service's task: container definitions and IAM policy documents, as pure functions of plain
// values. service.ts resolves the outputs and hands them in, so these can be unit-tested without
// mocks and the JSON the task definition carries is exactly what they return.
import {
    APP_CONTAINER_NAME,
    FIRELENS_OPTIONS,
    ROUTER_GRACE_SECONDS,
    ROUTER_MEMORY_RESERVATION_MIB,
    ROUTER_MONITORING_PORT,
} from "../fluent-bit/contract";

/** Name of the FireLens log router container. */
export const ROUTER_CONTAINER_NAME = "log_router";

/** Seconds ECS waits after SIGTERM before SIGKILL: longer than Fluent Bit's Grace, so buffers drain (Fargate allows up to 120). */
export const ROUTER_STOP_TIMEOUT_SECONDS = ROUTER_GRACE_SECONDS + 5;

/** Ports the router listens on inside the task's network namespace; the app must not take them. */
export const ROUTER_PORTS: readonly number[] = [
    24224, // FireLens' forward input (TCP)
    8877, // FireLens' health-check TCP input (127.0.0.1)
    ROUTER_MONITORING_PORT, // Fluent Bit's monitoring server (the health check)
];

/**
 * The router's `firelensConfiguration.options`: the custom config baked into the image (the
 * contract's FIRELENS_OPTIONS, `file` being the only type Fargate supports) and ECS metadata
 * (ecs_cluster, ecs_task_arn, ecs_task_definition) added to every record.
 */
export const ROUTER_FIRELENS_OPTIONS: Readonly<Record<string, string>> = {
    ...FIRELENS_OPTIONS,
    "enable-ecs-log-metadata": "true",
};

/**
 * The router's health check: Fluent Bit's monitoring server answers /api/v1/uptime while the
 * process is responsive. AWS recommends this "uptime" check for FireLens; the older TCP check on
 * FireLens' 8877 input reports rare false failures, and the 3.x images lack its `nc`. curl ships
 * in the AWS for Fluent Bit image (AWS's own example uses it). The router is essential: three
 * misses in a row (30 s) before the task is replaced.
 */
export const ROUTER_HEALTH_CHECK = {
    command: ["CMD-SHELL", `curl -fs http://127.0.0.1:${ROUTER_MONITORING_PORT}/api/v1/uptime || exit 1`],
    // Docker runs the first check one interval after start, and the app waits for it (HEALTHY).
    interval: 10,
    timeout: 5,
    retries: 3,
    startPeriod: 10,
} as const;

/**
 * The app's container health check: an HTTP GET of the health path on the container's own port,
 * with Python's standard library (a python:slim FastAPI image has no curl or wget). Exec form, so
 * no shell is needed either. urlopen raises on a non-2xx answer, so anything but 200 exits non-zero.
 */
export function appHealthCheck(port: number, healthCheckPath: string) {
    // JSON string syntax is valid Python for printable ASCII (what config allows in a path).
    const url = JSON.stringify(`http://127.0.0.1:${port}${healthCheckPath}`);
    return {
        command: [
            "CMD",
            "python3",
            "-c",
            `import sys, urllib.request; sys.exit(0 if urllib.request.urlopen(${url}, timeout=4).status == 200 else 1)`,
        ],
        interval: 30,
        timeout: 5,
        retries: 3,
        startPeriod: 60,
    };
}

/**
 * `valueFrom` for one key of a JSON secret in Secrets Manager:
 * `<secret ARN>:<json-key>:<version-stage>:<version-id>`, the last two empty for AWSCURRENT.
 */
export function secretJsonKey(secretArn: string, jsonKey: string): string {
    return `${secretArn}:${jsonKey}::`;
}

/** The image the app container runs: an explicit URI, or a tag in the stack's backend repository. */
export function appImageUri(repositoryUrl: string, image: { appImage?: string; appImageTag?: string }): string {
    if (image.appImage !== undefined) return image.appImage;
    if (image.appImageTag !== undefined) return `${repositoryUrl}:${image.appImageTag}`;
    throw new Error("Service: set appImage or appImageTag");
}

export interface ContainerInputs {
    /** The router image by digest (LogPipeline.imageRef). */
    routerImage: string;
    /** The router's environment (LogPipeline.routerEnvironment). */
    routerEnvironment: Array<{ name: string; value: string }>;
    /** Log group of the router's own output (awslogs). */
    routerLogGroupName: string;
    region: string;
    /** Resolved app image URI (appImageUri). */
    appImage: string;
    appPort: number;
    healthCheckPath: string;
    dbHost: string;
    dbPort: number;
    dbName: string;
    /** ARN of the RDS-managed master secret (JSON keys username and password). */
    dbSecretArn: string;
}

/** Prefix of the router's awslogs streams: `<prefix>/log_router/<task id>`. */
export const ROUTER_LOG_STREAM_PREFIX = "ecs";

/**
 * The task's two containers. The router starts first (the app waits until it is HEALTHY, so the
 * FireLens socket exists before the app writes a line) and stops last (ECS reverses the
 * dependency on shutdown). The app logs through `awsfirelens` with no options: the routing lives
 * in the image's config, and a `Name` option would make FireLens add an output of its own.
 */
export function containerDefinitions(c: ContainerInputs): object[] {
    const router = {
        name: ROUTER_CONTAINER_NAME,
        image: c.routerImage,
        essential: true,
        // FireLens' socket and the image's paths assume root, the image's default user; stated so
        // a base image that sets USER cannot silently break the router.
        user: "0",
        memoryReservation: ROUTER_MEMORY_RESERVATION_MIB,
        firelensConfiguration: { type: "fluentbit", options: ROUTER_FIRELENS_OPTIONS },
        environment: c.routerEnvironment,
        logConfiguration: {
            logDriver: "awslogs",
            options: {
                "awslogs-group": c.routerLogGroupName,
                "awslogs-region": c.region,
                "awslogs-stream-prefix": ROUTER_LOG_STREAM_PREFIX,
            },
        },
        healthCheck: { ...ROUTER_HEALTH_CHECK, command: [...ROUTER_HEALTH_CHECK.command] },
        stopTimeout: ROUTER_STOP_TIMEOUT_SECONDS,
    };
    const app = {
        name: APP_CONTAINER_NAME,
        image: c.appImage,
        essential: true,
        portMappings: [{ containerPort: c.appPort, protocol: "tcp" }],
        environment: [
            { name: "DB_HOST", value: c.dbHost },
            { name: "DB_PORT", value: String(c.dbPort) },
            { name: "DB_NAME", value: c.dbName },
            // Aurora runs with rds.force_ssl=1: a client without TLS is refused.
            { name: "DB_SSLMODE", value: "require" },
        ],
        // Injected by the ECS agent from Secrets Manager at start; never in the task definition.
        secrets: [
            { name: "DB_USERNAME", valueFrom: secretJsonKey(c.dbSecretArn, "username") },
            { name: "DB_PASSWORD", valueFrom: secretJsonKey(c.dbSecretArn, "password") },
        ],
        logConfiguration: { logDriver: "awsfirelens" },
        dependsOn: [{ containerName: ROUTER_CONTAINER_NAME, condition: "HEALTHY" }],
        healthCheck: appHealthCheck(c.appPort, c.healthCheckPath),
    };
    return [router, app];
}

// ---------------------------------------------------------------------------------------------
// IAM
// ---------------------------------------------------------------------------------------------

/** An IAM policy statement as the roles here carry it (same shape as LogPipeline's). */
export interface PolicyStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface TrustContext {
    accountId: string;
    partition: string;
    region: string;
}

/**
 * Trust policy for a role ECS tasks assume. aws:SourceAccount keeps another account's ECS from
 * using it (confused deputy). The task role also pins aws:SourceArn to this account's ECS in the
 * region, as AWS's task-role page shows; the execution role keeps the account condition only.
 */
export function ecsTasksTrustPolicy(ctx: TrustContext, pinSourceArn: boolean): object {
    return {
        Version: "2012-10-17",
        Statement: [{
            Effect: "Allow",
            Principal: { Service: "ecs-tasks.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: {
                StringEquals: { "aws:SourceAccount": ctx.accountId },
                ...(pinSourceArn ? { ArnLike: { "aws:SourceArn": `arn:${ctx.partition}:ecs:${ctx.region}:${ctx.accountId}:*` } } : {}),
            },
        }],
    };
}

/** Actions that pull an image from one ECR repository (the registry token comes from the managed policy). */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

export interface ExecutionGrants {
    dbSecretArn: string;
    dbKmsKeyArn: string;
    backendRepositoryArn: string;
    region: string;
    /** DNS suffix of the partition (amazonaws.com). */
    dnsSuffix: string;
}

/**
 * What the execution role needs beyond AmazonECSTaskExecutionRolePolicy: read the DB secret (that
 * one ARN), decrypt it with the DB key only when Secrets Manager asks, pull the backend image.
 */
export function executionRoleStatements(g: ExecutionGrants): PolicyStatement[] {
    return [
        {
            Sid: "ReadDbSecret",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: [g.dbSecretArn],
        },
        {
            Sid: "DecryptDbSecret",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: [g.dbKmsKeyArn],
            Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${g.region}.${g.dnsSuffix}` } },
        },
        {
            Sid: "PullBackendImage",
            Effect: "Allow",
            Action: [...ECR_PULL_ACTIONS],
            Resource: [g.backendRepositoryArn],
        },
    ];
}

/** A policy document from statements; throws on duplicate Sids (IAM rejects them). */
export function policyDocument(statements: ReadonlyArray<{ Sid?: string }>): object {
    const sids = statements.map((s) => s.Sid).filter((s): s is string => s !== undefined);
    const dupes = sids.filter((s, i) => sids.indexOf(s) !== i);
    if (dupes.length > 0) throw new Error(`Service: duplicate IAM statement Sid ${dupes.join(", ")}`);
    return { Version: "2012-10-17", Statement: statements };
}
