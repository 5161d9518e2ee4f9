// The backend-infra CrossGuard pack: retention, encryption and VPC-endpoint-only egress.
// `pulumi preview --policy-pack policy-pack --policy-pack-config policy-pack/<stack>.json`
import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./policies";

new PolicyPack("backend-infra", {
    description: "Guards the backend platform's promises: bounded retention, encryption at rest and in transit, and egress only through VPC endpoints.",
    enforcementLevel: "mandatory",
    policies: allPolicies,
});
