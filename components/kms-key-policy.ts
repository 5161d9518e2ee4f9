// What every customer-managed key of this project says first: the account administers the key
// (through its IAM policies) without being able to encrypt or decrypt with it. Each key adds its
// own use statements (RDS and Secrets Manager for the DB key, CloudWatch/EventBridge/SNS for the
// alert topics' key).

/** Where a key policy is evaluated: account, partition, region and the partition's DNS suffix. */
export interface AccountContext {
    accountId: string;
    partition: string;
    region: string;
    /** DNS suffix of the partition (amazonaws.com), for service endpoints in kms:ViaService. */
    dnsSuffix: string;
}

/** The account root, which delegates to the account's IAM policies. */
export function accountRoot(ctx: AccountContext): string {
    return `arn:${ctx.partition}:iam::${ctx.accountId}:root`;
}

/**
 * Administration only, no kms:Encrypt/Decrypt. kms:PutKeyPolicy stays with the account, so KMS's
 * lockout check passes when the deploying role creates the key.
 */
export const KEY_ADMIN_ACTIONS: readonly string[] = [
    "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:ListKeyRotations", "kms:RotateKeyOnDemand",
    "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
    "kms:ListGrants", "kms:RevokeGrant",
    "kms:EnableKey", "kms:DisableKey", "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
];

/** The key policy statement that lets the account administer the key. */
export function accountAdministersKey(ctx: AccountContext) {
    return {
        Sid: "AccountAdministersKey",
        Effect: "Allow" as const,
        Principal: { AWS: accountRoot(ctx) },
        Action: [...KEY_ADMIN_ACTIONS],
        Resource: "*" as const,
    };
}
