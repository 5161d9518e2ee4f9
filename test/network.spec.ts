import { strict as assert } from "assert";
import { carveSubnets, Network, subnetLayout } from "../components/network";
import { RecordedResource, runUnderMocks, StackName, valueOf } from "./helpers";
import { ResourceRecorder } from "../tools/mock-harness";
import { MOCK_ACCOUNT_ID } from "../tools/mocks";

const T = {
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    routeTable: "aws:ec2/routeTable:RouteTable",
    route: "aws:ec2/route:Route",
    assoc: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
};

function buildNetwork(stack: StackName) {
    return runUnderMocks(stack, (s) => new Network("backend", { ...s.network, stack: s.stack, region: s.region }));
}

/** The URN a property of `r` was built from (its property dependencies). */
function dependsOn(r: RecordedResource, prop: string): string[] {
    return r.propertyDependencies[prop] ?? [];
}

describe("carveSubnets", () => {
    it("carves consecutive blocks from the start of the VPC", () => {
        assert.deepEqual(carveSubnets("10.0.0.0/16", 20, 4), ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"]);
        assert.deepEqual(carveSubnets("172.16.8.0/22", 24, 2), ["172.16.8.0/24", "172.16.9.0/24"]);
    });
    it("keeps every existing subnet where it is when an AZ is added", () => {
        const two = subnetLayout("10.0.0.0/16", 20, 2);
        const three = subnetLayout("10.0.0.0/16", 20, 3);
        assert.deepEqual(three.publicCidrs.slice(0, 2), two.publicCidrs);
        assert.deepEqual(three.privateCidrs.slice(0, 2), two.privateCidrs);
        assert.deepEqual(three.privateCidrs, ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"]);
    });
    it("refuses more blocks than the VPC holds", () => {
        assert.throws(() => carveSubnets("10.0.0.0/24", 26, 5), /room for only 4 subnets of \/26/);
    });
});

for (const stack of ["dev", "prod"] as const) {
    describe(`Network (${stack})`, () => {
        let rec: ResourceRecorder;
        let network: Network;
        let retention: number;
        before(async () => {
            const run = await buildNetwork(stack);
            rec = run.recorder;
            network = run.result;
            retention = run.settings.network.logRetentionDays;
        });

        it("creates a VPC with DNS support and hostnames on", () => {
            const vpc = rec.one(T.vpc);
            assert.equal(vpc.inputs.cidrBlock, "10.0.0.0/16");
            assert.equal(vpc.inputs.enableDnsSupport, true, vpc.urn);
            assert.equal(vpc.inputs.enableDnsHostnames, true, vpc.urn);
        });

        it("spreads one public and one private subnet over each of two AZs, none mapping public IPs", () => {
            const subnets = rec.ofType(T.subnet);
            assert.equal(subnets.length, 4);
            const pub = subnets.filter((s) => s.inputs.tags.Tier === "public");
            const priv = subnets.filter((s) => s.inputs.tags.Tier === "private");
            assert.deepEqual(pub.map((s) => s.inputs.availabilityZone), ["ap-northeast-1a", "ap-northeast-1c"]);
            assert.deepEqual(priv.map((s) => s.inputs.availabilityZone), ["ap-northeast-1a", "ap-northeast-1c"]);
            assert.deepEqual(pub.map((s) => s.inputs.cidrBlock), ["10.0.0.0/20", "10.0.16.0/20"]);
            assert.deepEqual(priv.map((s) => s.inputs.cidrBlock), ["10.0.128.0/20", "10.0.144.0/20"]);
            for (const s of subnets) assert.equal(s.inputs.mapPublicIpOnLaunch, false, s.urn);
        });

        it("routes 0.0.0.0/0 to the internet gateway only from the public table, associated only with public subnets", () => {
            const routes = rec.ofType(T.route);
            assert.equal(routes.length, 1, "exactly one route resource");
            const [route] = routes;
            assert.equal(route.inputs.destinationCidrBlock, "0.0.0.0/0");
            assert.match(route.inputs.gatewayId, /^igw-/);
            const publicTable = rec.byUrn(dependsOn(route, "routeTableId")[0])!;
            assert.equal(publicTable.inputs.tags.Tier, "public");
            const assocs = rec.ofType(T.assoc).filter((a) => dependsOn(a, "routeTableId").includes(publicTable.urn));
            const subnets = assocs.map((a) => rec.byUrn(dependsOn(a, "subnetId")[0])!);
            assert.deepEqual(subnets.map((s) => s.inputs.tags.Tier), ["public", "public"]);
        });

        it("gives private route tables no default route at all", () => {
            const privateTables = rec.ofType(T.routeTable).filter((t) => t.inputs.tags.Tier === "private");
            assert.equal(privateTables.length, 2);
            for (const t of privateTables) {
                assert.deepEqual(t.inputs.routes ?? [], [], `inline routes in ${t.urn}`);
                const routes = rec.ofType(T.route).filter((r) => dependsOn(r, "routeTableId").includes(t.urn));
                assert.deepEqual(routes, [], `routes into ${t.urn}`);
            }
        });

        it("creates no NAT gateway, EIP or egress-only internet gateway", () => {
            for (const type of ["aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"]) {
                assert.deepEqual(rec.ofType(type), [], type);
            }
        });

        it("attaches the S3 gateway endpoint to every private route table", () => {
            const s3 = rec.ofType(T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Gateway");
            assert.equal(s3.length, 1);
            assert.equal(s3[0].inputs.serviceName, "com.amazonaws.ap-northeast-1.s3");
            const privateTables = rec.ofType(T.routeTable).filter((t) => t.inputs.tags.Tier === "private").map((t) => t.urn);
            assert.deepEqual([...dependsOn(s3[0], "routeTableIds")].sort(), [...privateTables].sort());
        });

        it("creates ecr.api, ecr.dkr, logs and secretsmanager interface endpoints with private DNS in every private subnet", () => {
            const iface = rec.ofType(T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Interface");
            assert.deepEqual(iface.map((e) => e.inputs.serviceName).sort(),
                ["ecr.api", "ecr.dkr", "logs", "secretsmanager"].map((s) => `com.amazonaws.ap-northeast-1.${s}`));
            const privateSubnets = rec.ofType(T.subnet).filter((s) => s.inputs.tags.Tier === "private").map((s) => s.urn).sort();
            for (const e of iface) {
                assert.equal(e.inputs.privateDnsEnabled, true, e.urn);
                assert.deepEqual([...dependsOn(e, "subnetIds")].sort(), privateSubnets, e.urn);
            }
        });

        it("lets the endpoint security group admit only TCP 443 from the VPC CIDR, with no egress", () => {
            const sg = rec.one(T.sg, "endpoints-sg");
            assert.equal(sg.inputs.egress, undefined, "no inline egress");
            assert.equal(sg.inputs.ingress, undefined, "no inline ingress");
            const ingress = rec.ofType(T.ingress).filter((r) => dependsOn(r, "securityGroupId").includes(sg.urn));
            assert.equal(ingress.length, 1);
            assert.deepEqual([ingress[0].inputs.ipProtocol, ingress[0].inputs.fromPort, ingress[0].inputs.toPort, ingress[0].inputs.cidrIpv4],
                ["tcp", 443, 443, "10.0.0.0/16"]);
            assert.deepEqual(rec.ofType(T.egress).filter((r) => dependsOn(r, "securityGroupId").includes(sg.urn)), []);
        });

        it("describes its security group and rule with text EC2 accepts", () => {
            const ec2Text = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
            for (const r of [...rec.ofType(T.sg), ...rec.ofType(T.ingress), ...rec.ofType(T.egress)]) {
                assert.match(r.inputs.description ?? "", ec2Text, r.urn);
            }
        });

        it("takes over the default security group with no rules", () => {
            const d = rec.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
            assert.deepEqual(d.inputs.ingress ?? [], []);
            assert.deepEqual(d.inputs.egress ?? [], []);
        });

        it(`keeps flow logs (ALL) for the stack's retention`, () => {
            const flow = rec.one("aws:ec2/flowLog:FlowLog");
            assert.equal(flow.inputs.trafficType, "ALL");
            const group = rec.one(T.logGroup, "flow-logs");
            assert.equal(group.inputs.retentionInDays, stack === "dev" ? 7 : 30);
            assert.equal(group.inputs.retentionInDays, retention);
            assert.equal(group.inputs.name, `/vpc/backend-${stack}/flow-logs`);
            assert.deepEqual(dependsOn(flow, "logDestination"), [group.urn]);
        });

        it("limits the flow-log role to writing that one group", () => {
            const policy = JSON.parse(rec.one("aws:iam/rolePolicy:RolePolicy", "flow-logs-write").inputs.policy);
            const group = rec.one(T.logGroup, "flow-logs");
            assert.equal(policy.Statement.length, 1);
            assert.deepEqual(policy.Statement[0].Action, ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]);
            assert.deepEqual(policy.Statement[0].Resource, [group.outputs.arn, `${group.outputs.arn}:log-stream:*`]);
            const trust = JSON.parse(rec.one("aws:iam/role:Role", "flow-logs-role").inputs.assumeRolePolicy);
            // The condition key and value AWS's flow-log guide shows; a wrong one silently blocks AssumeRole.
            assert.deepEqual(trust.Statement, [{
                Effect: "Allow",
                Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } },
            }]);
            assert.ok(!policy.Statement[0].Action.includes("logs:CreateLogGroup"), "no CreateLogGroup: a deleted group is not re-created by delivery");
        });

        it("exposes the outputs later components need", async () => {
            assert.equal((await valueOf(network.privateSubnetIds)).length, 2);
            assert.equal((await valueOf(network.publicSubnetIds)).length, 2);
            assert.equal((await valueOf(network.privateRouteTableIds)).length, 2);
            assert.match(await valueOf(network.endpointSecurityGroupId), /^sg-/);
            assert.match(await valueOf(network.s3PrefixListId), /^pl-/);
            assert.deepEqual(await valueOf(network.availabilityZones), ["ap-northeast-1a", "ap-northeast-1c"]);
        });
    });
}
