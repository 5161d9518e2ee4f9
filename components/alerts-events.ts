// Alerts: the EventBridge event patterns and input transformers for ECS task and deployment events.
//
// Pure functions of plain values, unit-tested without mocks. Event shapes are those of the ECS
// developer guide ("Amazon ECS task state change events", "Amazon ECS service deployment state
// change events"):
//
//   ECS Task State Change        detail.clusterArn, detail.group ("service:<name>"), detail.lastStatus,
//                                detail.stopCode, detail.stoppedReason, detail.taskArn,
//                                detail.taskDefinitionArn, detail.containers[].exitCode
//   ECS Deployment State Change  resources[0] = the service ARN, detail.eventName,
//                                detail.deploymentId, detail.reason
//
// Input transformers: InputPathsMap keys may hold only letters and digits, and paths use dot
// notation (no [0]). The template is a plain string, so it is a JSON string literal in double
// quotes; SNS publishes its content as the e-mail body. EventBridge does not escape the values it
// substitutes, and a path missing from the event leaves its placeholder empty.

/** stopCode values that always mean the task did not stop because the scheduler or a user asked it to. */
export const UNEXPECTED_STOP_CODES = ["TaskFailedToStart", "EssentialContainerExited"] as const;

/**
 * Tasks of one service in one cluster that stopped on their own: a stop code of
 * {@link UNEXPECTED_STOP_CODES}, or any container with a non-zero exit code (which also catches a
 * task the scheduler killed after failed load balancer health checks, exit 137/143). A graceful stop
 * during a deployment or scale-in (ServiceSchedulerInitiated, every container exit 0) does not match.
 * In an array of objects a field matches when any element's value matches, and anything-but never
 * matches a container with no exitCode at all (one that never started).
 */
export function taskStoppedPattern(clusterArn: string, serviceName: string): object {
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            clusterArn: [clusterArn],
            group: [`service:${serviceName}`],
            lastStatus: ["STOPPED"],
            $or: [
                { stopCode: [...UNEXPECTED_STOP_CODES] },
                { containers: { exitCode: [{ "anything-but": 0 }] } },
            ],
        },
    };
}

/**
 * Failed deployments of one service. ECS sends SERVICE_DEPLOYMENT_FAILED only for services with the
 * deployment circuit breaker turned on; the event names the service by ARN in `resources`.
 */
export function deploymentFailedPattern(serviceArn: string): object {
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Deployment State Change"],
        "resources": [serviceArn],
        "detail": {
            eventName: ["SERVICE_DEPLOYMENT_FAILED"],
        },
    };
}

export interface InputTransformer {
    inputPaths: Record<string, string>;
    inputTemplate: string;
}

/** A JSON string literal of `text`, whose <placeholders> EventBridge fills in. */
function stringTemplate(text: string): string {
    return JSON.stringify(text);
}

/** One line an operator can act on: what stopped, why, and where to look. */
export function taskStoppedTransformer(label: string, region: string): InputTransformer {
    return {
        inputPaths: {
            time: "$.time",
            group: "$.detail.group",
            task: "$.detail.taskArn",
            stopCode: "$.detail.stopCode",
            reason: "$.detail.stoppedReason",
            taskDefinition: "$.detail.taskDefinitionArn",
        },
        inputTemplate: stringTemplate(
            `[${label}] ECS task stopped unexpectedly at <time> (${region}). ` +
            `Service: <group>. Stop code: <stopCode>. Reason: <reason>. ` +
            `Task: <task>. Task definition: <taskDefinition>. ` +
            `Container exit codes and the app's ERROR logs show the cause.`),
    };
}

/** One line for a failed deployment: which deployment, why, and what ECS did about it. */
export function deploymentFailedTransformer(label: string, serviceName: string, region: string): InputTransformer {
    return {
        inputPaths: {
            time: "$.time",
            deployment: "$.detail.deploymentId",
            reason: "$.detail.reason",
        },
        inputTemplate: stringTemplate(
            `[${label}] ECS deployment <deployment> of service ${serviceName} FAILED at <time> (${region}). ` +
            `Reason: <reason>. The deployment circuit breaker stopped it; ` +
            `check the service's events and stopped tasks before deploying again.`),
    };
}
