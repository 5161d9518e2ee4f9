// Service: the backend on ECS Fargate behind an internet-facing ALB with WAF.
//
// The backend image repository, the cluster, the task (app + FireLens router, see service-task.ts),
// the service in the private subnets with auto scaling, the security groups of the tasks and the
// ALB (rules as separate resources, nothing to 0.0.0.0/0 in egress), the ALB with its access logs,
// the listeners and certificate (see service-edge.ts), and the WAF web ACL with its logs.
//
// What the first `pulumi up` needs from outside: an app image at the configured URI or tag (see
// README, "Service"). Without it, tasks fail to pull, the deployment circuit breaker stops the
// rollout, and `pulumi up` still succeeds (it does not wait for steady state).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { imageRepository } from "./ecr-repository";
import { ecrImageInRegion, FARGATE_CPU_MEMORY } from "../config";
import { APP_CONTAINER_NAME } from "../fluent-bit/contract";
import { TLS_POLICY, TlsSetup, tlsSetup, visibility, WAF_LOG_GROUP_PREFIX, WAF_REDACTED_HEADERS, wafRules } from "./service-edge";
import {
    appImageUri,
    containerDefinitions,
    ecsTasksTrustPolicy,
    executionRoleStatements,
    policyDocument,
    PolicyStatement,
    ROUTER_PORTS,
} from "./service-task";

/** Images the backend repository keeps, newest first; ECR expires the rest. */
export const BACKEND_IMAGES_KEPT = 10;
/** Seconds between scaling actions: scale out fast, scale in slowly so a burst does not flap. */
export const SCALE_OUT_COOLDOWN_SECONDS = 60;
export const SCALE_IN_COOLDOWN_SECONDS = 300;
/** ALB health check of the targets (seconds / counts). */
export const TARGET_HEALTH_CHECK = { interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 } as const;
const HTTPS_PORT = 443;
const HTTP_PORT = 80;
const POSTGRES_PORT = 5432;
const ANYWHERE = "0.0.0.0/0";
const PHYSICAL_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export interface ServiceArgs {
    // --- stack ---------------------------------------------------------------------------------
    /** Stack name; scopes every physical name (`<name>-<stack>`) so stacks can share an account. */
    stack: string;
    /** Region of the stack: the router's awslogs region and the kms:ViaService condition. */
    region: string;
    /**
     * true (prod): ALB deletion protection, and the backend repository refuses deletion while it
     * holds images. false (dev): both go away with `pulumi destroy`.
     */
    protect: boolean;
    /** Retention of the WAF log group, in days (a value CloudWatch accepts). */
    logRetentionDays: number;

    // --- image and task ------------------------------------------------------------------------
    /**
     * Full URI of the app image (repository:tag or @sha256:digest). Must be ECR in this region: the
     * tasks reach nothing else. Exactly one of appImage and appImageTag.
     */
    appImage?: string;
    /** Tag of the app image in this component's backend repository (IMMUTABLE: push each build under a new tag). */
    appImageTag?: string;
    /** Port the app listens on (1024–65535; not a port the log router uses: 24224, 8877, 2020). */
    appPort: number;
    /** Path the ALB and the container health check request; 200 means healthy. */
    healthCheckPath: string;
    /** Task CPU architecture; the router image must be built for the same (LogPipeline does). */
    cpuArchitecture: "X86_64" | "ARM64";
    /** Fargate task CPU units (256 … 16384). */
    taskCpu: number;
    /** Fargate task memory, MiB; a size Fargate accepts with taskCpu. */
    taskMemory: number;

    // --- service and scaling -------------------------------------------------------------------
    /**
     * Tasks at creation, between minTaskCount and maxTaskCount. Afterwards auto scaling owns the
     * count: later changes of this value are ignored (change min/max instead).
     */
    desiredCount: number;
    /** Fewest tasks auto scaling keeps (at least 1; at least 2 for a service spread over AZs). */
    minTaskCount: number;
    /** Most tasks auto scaling runs (at least minTaskCount). */
    maxTaskCount: number;
    /** Average service CPU (%) target tracking aims for. */
    scalingCpuTarget: number;
    /** Average service memory (%) target tracking aims for. */
    scalingMemoryTarget: number;
    /** Seconds ECS ignores failing ALB health checks of a new task. */
    healthCheckGracePeriodSeconds: number;
    /** Seconds the target group drains a deregistering task. */
    deregistrationDelaySeconds: number;

    // --- edge ----------------------------------------------------------------------------------
    /** ACM certificate (same region) for the HTTPS listener. Excludes domainName/hostedZoneId. */
    certificateArn?: string;
    /** Domain for a DNS-validated certificate and the alias `<apiHostPrefix>.<domainName>`; needs hostedZoneId. */
    domainName?: string;
    /** Route 53 public hosted zone of domainName. */
    hostedZoneId?: string;
    /** Host label of the alias record. */
    apiHostPrefix: string;
    /** Requests per client IP per 5 minutes before the WAF rate rule blocks (≥ 10). */
    wafRateLimit: number;

    // --- from Network --------------------------------------------------------------------------
    /** VPC of the subnets, the security groups and the target group. */
    vpcId: pulumi.Input<string>;
    /** Subnets of the ALB (one per AZ, at least two). */
    publicSubnetIds: pulumi.Input<string[]>;
    /** Subnets of the tasks; never public ones (tasks get no public IP). */
    privateSubnetIds: pulumi.Input<string[]>;
    /** Security group of the interface endpoints (ECR, logs, Secrets Manager): tasks send TCP 443 there. */
    endpointSecurityGroupId: pulumi.Input<string>;
    /** Prefix list of the S3 gateway endpoint: tasks send TCP 443 there (image layers, log objects). */
    s3PrefixListId: pulumi.Input<string>;

    // --- from Aurora ---------------------------------------------------------------------------
    /** Writer endpoint, the app's DB_HOST. */
    dbHost: pulumi.Input<string>;
    /** The app's DB_PORT. */
    dbPort: pulumi.Input<number>;
    /** The app's DB_NAME. */
    dbName: pulumi.Input<string>;
    /** ARN of the RDS-managed master secret (JSON keys username, password). The execution role reads this one secret. */
    dbSecretArn: pulumi.Input<string>;
    /** Key of that secret; the execution role may decrypt with it through Secrets Manager only. */
    dbKmsKeyArn: pulumi.Input<string>;
    /** The DB security group: tasks send TCP 5432 there (the DB side admits them via Aurora.allowClient). */
    dbSecurityGroupId: pulumi.Input<string>;

    // --- from LogPipeline ----------------------------------------------------------------------
    /**
     * Bucket of the ALB access logs. Pass an output that resolves only once the bucket policy
     * admitting ELB log delivery exists (LogPipeline.bucketName does): the ALB waits for it, else
     * CreateLoadBalancer/ModifyLoadBalancerAttributes fails with Access Denied.
     */
    logBucketName: pulumi.Input<string>;
    /** Key prefix of the ALB access logs (no leading or trailing slash). */
    albAccessLogPrefix: pulumi.Input<string>;
    /** The router image by digest. */
    routerImage: pulumi.Input<string>;
    /** The router's environment. */
    routerEnvironment: pulumi.Input<pulumi.Input<{ name: string; value: string }>[]>;
    /** Log group of the router's own output. */
    routerLogGroupName: pulumi.Input<string>;
    /** The task role's statements (the router's writes); the task role gets nothing else. */
    taskRoleStatements: pulumi.Input<PolicyStatement[]>;
    /** Added to the execution role (router image pull, router's own logs). */
    executionRoleStatements: pulumi.Input<PolicyStatement[]>;
}

/**
 * Rejects arguments that would fail in AWS (or silently misbehave) before any child exists.
 * Throws naming the property. Returns the TLS setup the arguments select.
 */
export function validateServiceArgs(name: string, a: ServiceArgs): TlsSetup {
    const component = `Service ${name}`;
    const fail: (message: string) => never = (message) => { throw new Error(`${component}: ${message}`); };
    const physical = `${name}-${a.stack}`;
    if (!PHYSICAL_NAME.test(physical) || physical.length > 64) {
        fail(`name and stack make "${physical}", which must be lower-case letters, digits and single hyphens, at most 64 characters (it names the cluster, service, repository and web ACL)`);
    }
    if ((a.appImage === undefined) === (a.appImageTag === undefined)) {
        fail("pass exactly one of appImage (a full image URI) and appImageTag (a tag in the backend repository)");
    }
    if (a.appImage !== undefined && !ecrImageInRegion(a.appImage, a.region)) {
        fail(`appImage "${a.appImage}" must be an ECR image in ${a.region} (<account>.dkr.ecr.${a.region}.amazonaws.com/<repository>:<tag> or @sha256:<digest>): the tasks have no route to the internet, only to this region's ECR endpoints`);
    }
    if (!Number.isInteger(a.appPort) || a.appPort < 1024 || a.appPort > 65535) fail(`appPort ${a.appPort} must be a port from 1024 to 65535`);
    if (ROUTER_PORTS.includes(a.appPort)) fail(`appPort ${a.appPort} is taken by the log router in the task (${ROUTER_PORTS.join(", ")})`);
    if (!a.healthCheckPath.startsWith("/")) fail(`healthCheckPath "${a.healthCheckPath}" must start with "/"`);
    const memories = FARGATE_CPU_MEMORY[a.taskCpu];
    if (!memories) fail(`taskCpu ${a.taskCpu} is not a Fargate CPU value (${Object.keys(FARGATE_CPU_MEMORY).join(", ")})`);
    if (!memories.includes(a.taskMemory)) fail(`taskMemory ${a.taskMemory} is not a size Fargate accepts with taskCpu ${a.taskCpu}`);
    if (a.minTaskCount < 1 || a.minTaskCount > a.maxTaskCount) fail(`minTaskCount ${a.minTaskCount} must be at least 1 and at most maxTaskCount ${a.maxTaskCount}`);
    if (a.desiredCount < a.minTaskCount || a.desiredCount > a.maxTaskCount) {
        fail(`desiredCount ${a.desiredCount} must lie between minTaskCount ${a.minTaskCount} and maxTaskCount ${a.maxTaskCount}`);
    }
    for (const [key, v] of [["scalingCpuTarget", a.scalingCpuTarget], ["scalingMemoryTarget", a.scalingMemoryTarget]] as const) {
        if (!(v > 0 && v <= 100)) fail(`${key} ${v} must be a percentage above 0 and at most 100`);
    }
    if (a.wafRateLimit < 10) fail(`wafRateLimit ${a.wafRateLimit} is below WAF's minimum of 10`);
    return tlsSetup(component, a);
}

export class Service extends pulumi.ComponentResource {
    /** Where clients reach the API: https://<host> with a domain, https://<ALB DNS> with a certificate ARN, http://<ALB DNS> without TLS. */
    public readonly url: pulumi.Output<string>;
    public readonly albDnsName: pulumi.Output<string>;
    public readonly albArn: pulumi.Output<string>;
    /** CloudWatch dimension LoadBalancer (app/<name>/<id>). */
    public readonly albArnSuffix: pulumi.Output<string>;
    /** CloudWatch dimension TargetGroup (targetgroup/<name>/<id>). */
    public readonly targetGroupArnSuffix: pulumi.Output<string>;
    /** CloudWatch dimension ClusterName. */
    public readonly clusterName: pulumi.Output<string>;
    public readonly clusterArn: pulumi.Output<string>;
    /** CloudWatch dimension ServiceName. */
    public readonly serviceName: pulumi.Output<string>;
    /** The ECS service's ARN (deployment events name it in `resources`). */
    public readonly serviceArn: pulumi.Output<string>;
    public readonly taskSecurityGroupId: pulumi.Output<string>;
    public readonly albSecurityGroupId: pulumi.Output<string>;
    /** The backend repository: push app images here (tag = appImageTag). */
    public readonly repositoryUrl: pulumi.Output<string>;
    public readonly webAclArn: pulumi.Output<string>;
    /** The WAF log group (aws-waf-logs-…). */
    public readonly wafLogGroupName: pulumi.Output<string>;

    constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backend-infra:service:Service", name, {}, opts);
        const tls = validateServiceArgs(name, args);
        const physical = `${name}-${args.stack}`;
        const parent = { parent: this };
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent);

        // --- Backend image repository ------------------------------------------------------------
        const repository = imageRepository(`${name}-repo`, {
            repositoryName: physical,
            imagesKept: BACKEND_IMAGES_KEPT,
            protect: args.protect,
        }, parent);

        // --- Cluster -------------------------------------------------------------------------------
        const cluster = new aws.ecs.Cluster(`${name}-cluster`, {
            name: physical,
            settings: [{ name: "containerInsights", value: "enabled" }],
        }, parent);

        // --- Roles ---------------------------------------------------------------------------------
        const trust = (pinSourceArn: boolean) => pulumi.all([account, partition.partition]).apply(([accountId, part]) =>
            JSON.stringify(ecsTasksTrustPolicy({ accountId, partition: part, region: args.region }, pinSourceArn)));
        const executionRole = new aws.iam.Role(`${name}-execution-role`, {
            description: `ECS ${physical}: pull images, read the DB secret, write the router's own logs`,
            assumeRolePolicy: trust(false),
        }, parent);
        const executionManaged = new aws.iam.RolePolicyAttachment(`${name}-execution-managed`, {
            role: executionRole.name,
            policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
        }, { parent: executionRole });
        const executionPolicy = new aws.iam.RolePolicy(`${name}-execution-grants`, {
            role: executionRole.id,
            policy: pulumi.all([args.dbSecretArn, args.dbKmsKeyArn, repository.arn, partition.dnsSuffix, args.executionRoleStatements])
                .apply(([dbSecretArn, dbKmsKeyArn, backendRepositoryArn, dnsSuffix, pipeline]) => JSON.stringify(policyDocument([
                    ...executionRoleStatements({ dbSecretArn, dbKmsKeyArn, backendRepositoryArn, region: args.region, dnsSuffix }),
                    ...pipeline,
                ]))),
        }, { parent: executionRole });

        const taskRole = new aws.iam.Role(`${name}-task-role`, {
            description: `ECS ${physical}: what the containers may call (the log router's writes only)`,
            assumeRolePolicy: trust(true),
        }, parent);
        const taskPolicy = new aws.iam.RolePolicy(`${name}-task-grants`, {
            role: taskRole.id,
            policy: pulumi.output(args.taskRoleStatements).apply((statements) => JSON.stringify(policyDocument(statements))),
        }, { parent: taskRole });

        // --- Task definition -----------------------------------------------------------------------
        const taskDefinition = new aws.ecs.TaskDefinition(`${name}-task`, {
            family: physical,
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: String(args.taskCpu),
            memory: String(args.taskMemory),
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: args.cpuArchitecture },
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: pulumi.jsonStringify(pulumi.all([
                args.routerImage, pulumi.output(args.routerEnvironment), args.routerLogGroupName,
                repository.repositoryUrl, args.dbHost, args.dbPort, args.dbName, args.dbSecretArn,
            ]).apply(([routerImage, routerEnvironment, routerLogGroupName, repositoryUrl, dbHost, dbPort, dbName, dbSecretArn]) =>
                containerDefinitions({
                    routerImage, routerEnvironment, routerLogGroupName, region: args.region,
                    appImage: appImageUri(repositoryUrl, args), appPort: args.appPort, healthCheckPath: args.healthCheckPath,
                    dbHost, dbPort, dbName, dbSecretArn,
                }))),
        }, parent);

        // --- Security groups (no inline rules: each rule is its own resource) ----------------------
        // EC2 accepts only a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{}!$* in group and rule
        // descriptions: no apostrophes or quotes, or CreateSecurityGroup/Authorize* fail.
        const albSg = new aws.ec2.SecurityGroup(`${name}-alb-sg`, {
            vpcId: args.vpcId,
            description: `ALB ${physical}: HTTP/HTTPS from anywhere, to the task app port only`,
            tags: { Name: `${physical}-alb` },
        }, parent);
        const taskSg = new aws.ec2.SecurityGroup(`${name}-task-sg`, {
            vpcId: args.vpcId,
            description: `ECS tasks ${physical}: app port from the ALB; out only to endpoints, S3 and the DB`,
            tags: { Name: `${physical}-tasks` },
        }, parent);
        const tcp = (port: number) => ({ ipProtocol: "tcp", fromPort: port, toPort: port });
        for (const port of [HTTP_PORT, HTTPS_PORT]) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-alb-in-${port}`, {
                securityGroupId: albSg.id,
                description: `HTTP${port === HTTPS_PORT ? "S" : ""} from the internet`,
                ...tcp(port),
                cidrIpv4: ANYWHERE,
            }, { parent: albSg });
        }
        new aws.vpc.SecurityGroupEgressRule(`${name}-alb-out-tasks`, {
            securityGroupId: albSg.id,
            description: "To the task app port (traffic and health checks)",
            ...tcp(args.appPort),
            referencedSecurityGroupId: taskSg.id,
        }, { parent: albSg });
        const taskRules = [
            new aws.vpc.SecurityGroupIngressRule(`${name}-task-in-alb`, {
                securityGroupId: taskSg.id,
                description: "App port from the ALB",
                ...tcp(args.appPort),
                referencedSecurityGroupId: albSg.id,
            }, { parent: taskSg }),
            new aws.vpc.SecurityGroupEgressRule(`${name}-task-out-endpoints`, {
                securityGroupId: taskSg.id,
                description: "HTTPS to the interface endpoints (ECR, logs, Secrets Manager)",
                ...tcp(HTTPS_PORT),
                referencedSecurityGroupId: args.endpointSecurityGroupId,
            }, { parent: taskSg }),
            new aws.vpc.SecurityGroupEgressRule(`${name}-task-out-s3`, {
                securityGroupId: taskSg.id,
                description: "HTTPS to S3 through the gateway endpoint (image layers, log objects)",
                ...tcp(HTTPS_PORT),
                prefixListId: args.s3PrefixListId,
            }, { parent: taskSg }),
            new aws.vpc.SecurityGroupEgressRule(`${name}-task-out-db`, {
                securityGroupId: taskSg.id,
                description: "PostgreSQL to Aurora",
                ...tcp(POSTGRES_PORT),
                referencedSecurityGroupId: args.dbSecurityGroupId,
            }, { parent: taskSg }),
        ];

        // --- Load balancer -------------------------------------------------------------------------
        const alb = new aws.lb.LoadBalancer(`${name}-alb`, {
            loadBalancerType: "application",
            internal: false,
            ipAddressType: "ipv4",
            subnets: args.publicSubnetIds,
            securityGroups: [albSg.id],
            dropInvalidHeaderFields: true,
            enableDeletionProtection: args.protect,
            accessLogs: { bucket: args.logBucketName, prefix: args.albAccessLogPrefix, enabled: true },
            tags: { Name: physical },
        }, parent);

        const targetGroup = new aws.lb.TargetGroup(`${name}-tg`, {
            targetType: "ip",
            protocol: "HTTP",
            protocolVersion: "HTTP1",
            port: args.appPort,
            vpcId: args.vpcId,
            deregistrationDelay: args.deregistrationDelaySeconds,
            healthCheck: {
                enabled: true,
                protocol: "HTTP",
                port: "traffic-port",
                path: args.healthCheckPath,
                matcher: "200",
                ...TARGET_HEALTH_CHECK,
            },
            tags: { Name: physical },
        }, { parent: alb });
        const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }];

        let certificateArn: pulumi.Output<string> | undefined;
        let url: pulumi.Output<string>;
        if (tls.kind === "certificate-arn") {
            certificateArn = pulumi.output(tls.certificateArn);
            url = pulumi.interpolate`https://${alb.dnsName}`;
        } else if (tls.kind === "dns-validated") {
            const certificate = new aws.acm.Certificate(`${name}-cert`, {
                domainName: tls.hostName,
                validationMethod: "DNS",
                keyAlgorithm: "RSA_2048",
                tags: { Name: tls.hostName },
            }, parent);
            // One name, so exactly one validation record.
            const option = certificate.domainValidationOptions.apply((options) => {
                const found = options.find((o) => o.domainName === tls.hostName) ?? options[0];
                if (!found) throw new Error(`Service ${name}: ACM returned no DNS validation option for ${tls.hostName}`);
                return found;
            });
            const validationRecord = new aws.route53.Record(`${name}-cert-validation`, {
                zoneId: tls.hostedZoneId,
                name: option.apply((o) => o.resourceRecordName!),
                type: option.apply((o) => o.resourceRecordType!),
                records: [option.apply((o) => o.resourceRecordValue!)],
                ttl: 60,
                // The same name is ACM's for every certificate of this host (e.g. another stack's).
                allowOverwrite: true,
            }, { parent: certificate });
            const validation = new aws.acm.CertificateValidation(`${name}-cert-validated`, {
                certificateArn: certificate.arn,
                validationRecordFqdns: [validationRecord.fqdn],
            }, { parent: certificate });
            certificateArn = validation.certificateArn;
            new aws.route53.Record(`${name}-alias`, {
                zoneId: tls.hostedZoneId,
                name: tls.hostName,
                type: "A",
                aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
            }, { parent: alb });
            url = pulumi.output(`https://${tls.hostName}`);
        } else {
            url = pulumi.interpolate`http://${alb.dnsName}`;
        }

        const listeners: aws.lb.Listener[] = [];
        if (certificateArn !== undefined) {
            listeners.push(new aws.lb.Listener(`${name}-https`, {
                loadBalancerArn: alb.arn,
                port: HTTPS_PORT,
                protocol: "HTTPS",
                sslPolicy: TLS_POLICY,
                certificateArn,
                defaultActions: forward,
            }, { parent: alb }));
            listeners.push(new aws.lb.Listener(`${name}-http`, {
                loadBalancerArn: alb.arn,
                port: HTTP_PORT,
                protocol: "HTTP",
                defaultActions: [{
                    type: "redirect",
                    redirect: { protocol: "HTTPS", port: String(HTTPS_PORT), statusCode: "HTTP_301" },
                }],
            }, { parent: alb }));
        } else {
            // No certificate (a dev stack without a domain): plain HTTP to the targets. The policy
            // pack reports this listener (advisory in dev, a violation in prod).
            listeners.push(new aws.lb.Listener(`${name}-http`, {
                loadBalancerArn: alb.arn,
                port: HTTP_PORT,
                protocol: "HTTP",
                defaultActions: forward,
            }, { parent: alb }));
        }

        // --- WAF -----------------------------------------------------------------------------------
        const webAcl = new aws.wafv2.WebAcl(`${name}-waf`, {
            name: physical,
            description: `ALB ${physical}: AWS managed rules and a per-IP rate limit`,
            scope: "REGIONAL",
            defaultAction: { allow: {} },
            rules: wafRules(args.wafRateLimit, physical),
            visibilityConfig: visibility(physical),
        }, parent);
        new aws.wafv2.WebAclAssociation(`${name}-waf-alb`, {
            resourceArn: alb.arn,
            webAclArn: webAcl.arn,
        }, { parent: webAcl });
        const wafLogGroup = new aws.cloudwatch.LogGroup(`${name}-waf-logs`, {
            name: `${WAF_LOG_GROUP_PREFIX}${physical}`,
            retentionInDays: args.logRetentionDays,
            tags: { Name: `${WAF_LOG_GROUP_PREFIX}${physical}` },
        }, { parent: webAcl });
        // WAF would add this policy itself when the deployer may call logs:PutResourcePolicy; owning
        // it makes it part of the stack and keeps the account-wide AWSWAF-LOGS policy out of it.
        const wafLogPolicy = new aws.cloudwatch.LogResourcePolicy(`${name}-waf-logs-policy`, {
            resourceArn: wafLogGroup.arn,
            policyDocument: pulumi.all([wafLogGroup.arn, account, partition.partition]).apply(([groupArn, accountId, part]) => JSON.stringify({
                Version: "2012-10-17",
                Statement: [{
                    Sid: "WafLogDelivery",
                    Effect: "Allow",
                    Principal: { Service: "delivery.logs.amazonaws.com" },
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    Resource: `${groupArn}:*`,
                    Condition: {
                        StringEquals: { "aws:SourceAccount": accountId },
                        ArnLike: { "aws:SourceArn": `arn:${part}:logs:${args.region}:${accountId}:*` },
                    },
                }],
            })),
        }, { parent: wafLogGroup });
        new aws.wafv2.WebAclLoggingConfiguration(`${name}-waf-logging`, {
            resourceArn: webAcl.arn,
            logDestinationConfigs: [wafLogGroup.arn],
            // WAF logs carry request headers: keep credentials out of CloudWatch.
            redactedFields: WAF_REDACTED_HEADERS.map((header) => ({ singleHeader: { name: header } })),
        }, { parent: webAcl, dependsOn: [wafLogPolicy] });

        // --- Service -------------------------------------------------------------------------------
        const service = new aws.ecs.Service(`${name}-service`, {
            name: physical,
            cluster: cluster.arn,
            taskDefinition: taskDefinition.arn,
            launchType: "FARGATE",
            platformVersion: "LATEST",
            desiredCount: args.desiredCount,
            availabilityZoneRebalancing: "ENABLED",
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            deploymentCircuitBreaker: { enable: true, rollback: true },
            healthCheckGracePeriodSeconds: args.healthCheckGracePeriodSeconds,
            networkConfiguration: {
                subnets: args.privateSubnetIds,
                securityGroups: [taskSg.id],
                assignPublicIp: false,
            },
            loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName: APP_CONTAINER_NAME, containerPort: args.appPort }],
            propagateTags: "SERVICE",
            enableEcsManagedTags: true,
            // `pulumi up` returns once ECS accepted the deployment; the circuit breaker judges it.
            // Waiting would hold every update for minutes and, without an app image yet, fail it.
            waitForSteadyState: false,
        }, {
            parent: this,
            // Before the first task starts: the target group must be behind a listener (ECS refuses
            // it otherwise), the tasks need their egress rules to pull images and read the secret,
            // and the roles their grants; a task failing on any of these counts toward the circuit breaker.
            dependsOn: [...listeners, ...taskRules, executionManaged, executionPolicy, taskPolicy],
            // Auto scaling owns the count after creation; a `pulumi up` must not reset it.
            ignoreChanges: ["desiredCount"],
        });

        // --- Auto scaling --------------------------------------------------------------------------
        const scalingTarget = new aws.appautoscaling.Target(`${name}-scaling`, {
            serviceNamespace: "ecs",
            scalableDimension: "ecs:service:DesiredCount",
            resourceId: pulumi.interpolate`service/${cluster.name}/${service.name}`,
            minCapacity: args.minTaskCount,
            maxCapacity: args.maxTaskCount,
        }, { parent: service });
        const track = (suffix: string, metric: string, target: number) => new aws.appautoscaling.Policy(`${name}-scale-${suffix}`, {
            name: `${physical}-${suffix}`,
            policyType: "TargetTrackingScaling",
            serviceNamespace: scalingTarget.serviceNamespace,
            scalableDimension: scalingTarget.scalableDimension,
            resourceId: scalingTarget.resourceId,
            targetTrackingScalingPolicyConfiguration: {
                predefinedMetricSpecification: { predefinedMetricType: metric },
                targetValue: target,
                scaleOutCooldown: SCALE_OUT_COOLDOWN_SECONDS,
                scaleInCooldown: SCALE_IN_COOLDOWN_SECONDS,
            },
        }, { parent: scalingTarget });
        track("cpu", "ECSServiceAverageCPUUtilization", args.scalingCpuTarget);
        track("memory", "ECSServiceAverageMemoryUtilization", args.scalingMemoryTarget);

        this.url = url;
        this.albDnsName = alb.dnsName;
        this.albArn = alb.arn;
        this.albArnSuffix = alb.arnSuffix;
        this.targetGroupArnSuffix = targetGroup.arnSuffix;
        this.clusterName = cluster.name;
        this.clusterArn = cluster.arn;
        this.serviceName = service.name;
        this.serviceArn = service.arn;
        this.taskSecurityGroupId = taskSg.id;
        this.albSecurityGroupId = albSg.id;
        this.repositoryUrl = repository.repositoryUrl;
        this.webAclArn = webAcl.arn;
        this.wafLogGroupName = wafLogGroup.name;
        this.registerOutputs({
            url: this.url,
            albDnsName: this.albDnsName,
            albArn: this.albArn,
            albArnSuffix: this.albArnSuffix,
            targetGroupArnSuffix: this.targetGroupArnSuffix,
            clusterName: this.clusterName,
            clusterArn: this.clusterArn,
            serviceName: this.serviceName,
            serviceArn: this.serviceArn,
            taskSecurityGroupId: this.taskSecurityGroupId,
            albSecurityGroupId: this.albSecurityGroupId,
            repositoryUrl: this.repositoryUrl,
            webAclArn: this.webAclArn,
            wafLogGroupName: this.wafLogGroupName,
        });
    }
}
