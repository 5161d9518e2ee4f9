// Every policy of the pack, in one list: index.ts serves it and the tests check each one is in it.
import type { Policies } from "@pulumi/policy";
import { encryptionPolicies } from "./encryption";
import { egressPolicies } from "./egress";
import { retentionPolicies } from "./retention";

export const allPolicies: Policies = [...retentionPolicies, ...encryptionPolicies, ...egressPolicies];
