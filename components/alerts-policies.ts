// Alerts: the policies of the alert topics' KMS key and of the topics themselves.
//
// Pure functions of plain values, unit-tested without mocks. Who may use the key and publish to the
// topics, and why each principal is conditioned the way it is:
//
// - CloudWatch alarms (cloudwatch.amazonaws.com) publish to the topics and, because the topics are
//   encrypted, need kms:GenerateDataKey* and kms:Decrypt on the key ("Enable compatibility between
//   event sources from AWS services and encrypted topics", SNS developer guide). A custom topic
//   policy replaces SNS's default one (whose AWS:SourceOwner statement is what lets alarms publish to
//   a fresh topic), so the topic policy names cloudwatch.amazonaws.com itself. Both grants carry
//   aws:SourceAccount; the topic grant also aws:SourceArn, limited to this stack's alarm names.
// - EventBridge rules (events.amazonaws.com) need the same two key actions and sns:Publish. AWS
//   documents that aws:SourceAccount / aws:SourceArn / aws:SourceOrgID are NOT supported in a KMS
//   key policy for EventBridge-to-encrypted-topic delivery (SNS developer guide, same section), and
//   the EventBridge user guide says Condition blocks cannot be used in SNS topic policies for
//   EventBridge. A condition there never matches and every event is dropped silently (only the
//   rule's FailedInvocations metric shows it), so these two statements are unconditioned; the
//   topic ARN bounds the grant, and the Alerts component alarms on FailedInvocations.
// - The account's own IAM principals may use the key only through SNS in this region (publishing a
//   test message with `aws sns publish`), and administer it without being able to use it directly.
import { accountAdministersKey, AccountContext, accountRoot } from "./kms-key-policy";

/** Principal services that publish to the alert topics. */
export const CLOUDWATCH_ALARMS_PRINCIPAL = "cloudwatch.amazonaws.com";
export const EVENTBRIDGE_PRINCIPAL = "events.amazonaws.com";

/** What a publishing service needs on the key of an encrypted topic. */
export const PUBLISHER_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"] as const;

export type { AccountContext };

type Principal = { AWS: string } | { Service: string };

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow";
    Principal: Principal;
    Action: string[];
    Resource: string;
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/**
 * ARN pattern of this stack's alarms (`<alarmPrefix>-*`), the aws:SourceArn CloudWatch presents
 * when an alarm publishes.
 */
export function alarmArnPattern(ctx: AccountContext, alarmPrefix: string): string {
    return `arn:${ctx.partition}:cloudwatch:${ctx.region}:${ctx.accountId}:alarm:${alarmPrefix}-*`;
}

/** Key policy of the customer-managed key that encrypts both alert topics. */
export function alertsKeyPolicy(ctx: AccountContext): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            accountAdministersKey(ctx),
            {
                Sid: "AccountPublishesThroughSns",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: [...PUBLISHER_KEY_ACTIONS],
                Resource: "*",
                Condition: {
                    StringEquals: {
                        "kms:CallerAccount": ctx.accountId,
                        "kms:ViaService": `sns.${ctx.region}.${ctx.dnsSuffix}`,
                    },
                },
            },
            {
                Sid: "CloudWatchAlarmsPublish",
                Effect: "Allow",
                Principal: { Service: CLOUDWATCH_ALARMS_PRINCIPAL },
                Action: [...PUBLISHER_KEY_ACTIONS],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } },
            },
            {
                // No Condition on purpose: not supported for EventBridge to encrypted topics (see above).
                Sid: "EventBridgeRulesPublish",
                Effect: "Allow",
                Principal: { Service: EVENTBRIDGE_PRINCIPAL },
                Action: [...PUBLISHER_KEY_ACTIONS],
                Resource: "*",
            },
        ],
    };
}

/**
 * Policy of one alert topic: it replaces SNS's default policy, so it restates what the account
 * keeps and names both publishing services.
 */
export function alertTopicPolicy(ctx: AccountContext, topicArn: string, alarmPrefix: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountManagesTopic",
                Effect: "Allow",
                Principal: { AWS: accountRoot(ctx) },
                Action: [
                    "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
                    "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
                ],
                Resource: topicArn,
            },
            {
                Sid: "CloudWatchAlarmsPublish",
                Effect: "Allow",
                Principal: { Service: CLOUDWATCH_ALARMS_PRINCIPAL },
                Action: ["sns:Publish"],
                Resource: topicArn,
                Condition: {
                    StringEquals: { "aws:SourceAccount": ctx.accountId },
                    ArnLike: { "aws:SourceArn": alarmArnPattern(ctx, alarmPrefix) },
                },
            },
            {
                // No Condition on purpose: EventBridge does not support one here (see above).
                Sid: "EventBridgeRulesPublish",
                Effect: "Allow",
                Principal: { Service: EVENTBRIDGE_PRINCIPAL },
                Action: ["sns:Publish"],
                Resource: topicArn,
            },
        ],
    };
}
