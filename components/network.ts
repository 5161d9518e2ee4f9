// Network: a VPC whose private subnets reach AWS only through VPC endpoints.
//
// Built from plain @pulumi/aws resources rather than awsx.ec2.Vpc: awsx's VPC is a remote component
// whose subnets, routes and route tables are invisible to mocked tests and to the policy pack in
// the offline preview, and it cannot attach an S3 gateway endpoint to its own private route tables.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Netmask } from "netmask";
import { parseCidr } from "../config";

export interface NetworkArgs {
    /** The VPC's IPv4 CIDR block. Validated by config.ts (a real network address, /16–/28). */
    vpcCidr: string;
    /** AZs to span; at least 2. The first N available (non-opt-in) AZs of the region are used. */
    availabilityZoneCount: number;
    /** Prefix length of every subnet: public subnets are carved from the VPC's first half, private subnets from its second half. */
    subnetPrefixLength: number;
    /** Interface endpoint services (e.g. `ecr.api`), one endpoint each in every private subnet. S3 is always a gateway endpoint and is not listed here. */
    interfaceEndpointServices: string[];
    /** Retention of the flow-log group, in days (a value CloudWatch accepts). */
    logRetentionDays: number;
    /** Stack name, used to scope the flow-log group name so stacks can share an account. */
    stack: string;
    /** Region, for endpoint service names (com.amazonaws.<region>.<service>). */
    region: string;
}

/**
 * Subnet CIDRs: public subnets from the start of the VPC's first half, private subnets from the
 * start of its second half, so a later availabilityZoneCount increase adds blocks without moving
 * any existing subnet (a moved CIDR would force every subnet to be replaced).
 */
export function subnetLayout(vpcCidr: string, prefixLength: number, azCount: number): { publicCidrs: string[]; privateCidrs: string[] } {
    const vpc = parseCidr(vpcCidr);
    if (!vpc) throw new Error(`subnetLayout: "${vpcCidr}" is not a CIDR block`);
    const firstHalf = new Netmask(vpc.base, vpc.bitmask + 1);
    return {
        publicCidrs: carveSubnets(firstHalf.toString(), prefixLength, azCount),
        privateCidrs: carveSubnets(firstHalf.next().toString(), prefixLength, azCount),
    };
}

/** Carves `count` consecutive /prefix blocks from the start of `cidr` with netmask (no string arithmetic). */
export function carveSubnets(cidr: string, prefixLength: number, count: number): string[] {
    const vpc = parseCidr(cidr);
    if (!vpc) throw new Error(`carveSubnets: "${cidr}" is not a CIDR block`);
    if (prefixLength <= vpc.bitmask) throw new Error(`carveSubnets: /${prefixLength} does not fit inside ${cidr}`);
    const blocks: string[] = [];
    let block = new Netmask(vpc.base, prefixLength);
    for (let i = 0; i < count; i++) {
        if (!vpc.contains(block.base) || !vpc.contains(block.broadcast ?? block.last)) {
            throw new Error(`carveSubnets: ${cidr} has room for only ${i} subnets of /${prefixLength}, ${count} needed`);
        }
        blocks.push(block.toString());
        block = block.next();
    }
    return blocks;
}

export class Network extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly vpcCidr: pulumi.Output<string>;
    public readonly availabilityZones: pulumi.Output<string[]>;
    public readonly publicSubnetIds: pulumi.Output<string[]>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    public readonly privateRouteTableIds: pulumi.Output<string[]>;
    public readonly endpointSecurityGroupId: pulumi.Output<string>;
    /** Managed prefix list of the S3 gateway endpoint, for security-group egress rules to S3. */
    public readonly s3PrefixListId: pulumi.Output<string>;
    public readonly flowLogGroupName: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backend-infra:network:Network", name, {}, opts);
        const n = args.availabilityZoneCount;
        if (n < 2) throw new Error(`Network ${name}: availabilityZoneCount must be at least 2, got ${n}`);
        const { publicCidrs, privateCidrs } = subnetLayout(args.vpcCidr, args.subnetPrefixLength, n);
        const parent = { parent: this };

        const zones = aws.getAvailabilityZonesOutput({
            state: "available",
            filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
        }, parent);
        const azs = zones.names.apply((names) => {
            if (names.length < n) {
                throw new Error(`Network ${name}: region ${args.region} has ${names.length} available AZs, availabilityZoneCount is ${n}`);
            }
            return names.slice(0, n);
        });

        // Interface endpoints' private DNS needs both DNS attributes on.
        const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
            cidrBlock: args.vpcCidr,
            enableDnsSupport: true,
            enableDnsHostnames: true,
            tags: { Name: `${name}-vpc` },
        }, parent);

        // Take over the default security group and leave it with no rules, so nothing can use it by accident.
        new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, {
            vpcId: vpc.id,
            tags: { Name: `${name}-default-sg-unused` },
        }, { parent: vpc });

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: `${name}-igw` } }, { parent: vpc });

        const publicRouteTable = new aws.ec2.RouteTable(`${name}-public-rt`, {
            vpcId: vpc.id,
            tags: { Name: `${name}-public`, Tier: "public" },
        }, { parent: vpc });
        new aws.ec2.Route(`${name}-public-default`, {
            routeTableId: publicRouteTable.id,
            destinationCidrBlock: "0.0.0.0/0",
            gatewayId: igw.id,
        }, { parent: publicRouteTable });

        const publicSubnets: aws.ec2.Subnet[] = [];
        const privateSubnets: aws.ec2.Subnet[] = [];
        const privateRouteTables: aws.ec2.RouteTable[] = [];
        for (let i = 0; i < n; i++) {
            const az = azs.apply((names) => names[i]);
            const pub = new aws.ec2.Subnet(`${name}-public-${i + 1}`, {
                vpcId: vpc.id,
                cidrBlock: publicCidrs[i],
                availabilityZone: az,
                // The ALB gets its own addresses; nothing launched here should get a public IP implicitly.
                mapPublicIpOnLaunch: false,
                tags: { Name: `${name}-public-${i + 1}`, Tier: "public" },
            }, { parent: vpc });
            new aws.ec2.RouteTableAssociation(`${name}-public-${i + 1}-rta`, {
                subnetId: pub.id,
                routeTableId: publicRouteTable.id,
            }, { parent: pub });
            publicSubnets.push(pub);

            const priv = new aws.ec2.Subnet(`${name}-private-${i + 1}`, {
                vpcId: vpc.id,
                cidrBlock: privateCidrs[i],
                availabilityZone: az,
                mapPublicIpOnLaunch: false,
                tags: { Name: `${name}-private-${i + 1}`, Tier: "private" },
            }, { parent: vpc });
            // One table per private subnet, with no default route at all: only the VPC-local route
            // and the S3 gateway endpoint's prefix-list route.
            const rt = new aws.ec2.RouteTable(`${name}-private-${i + 1}-rt`, {
                vpcId: vpc.id,
                tags: { Name: `${name}-private-${i + 1}`, Tier: "private" },
            }, { parent: priv });
            new aws.ec2.RouteTableAssociation(`${name}-private-${i + 1}-rta`, {
                subnetId: priv.id,
                routeTableId: rt.id,
            }, { parent: rt });
            privateSubnets.push(priv);
            privateRouteTables.push(rt);
        }

        const endpointSg = new aws.ec2.SecurityGroup(`${name}-endpoints-sg`, {
            vpcId: vpc.id,
            description: "Interface VPC endpoints: HTTPS from inside the VPC only",
            tags: { Name: `${name}-endpoints` },
        }, { parent: vpc });
        new aws.vpc.SecurityGroupIngressRule(`${name}-endpoints-https-in`, {
            securityGroupId: endpointSg.id,
            description: "HTTPS from the VPC",
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrIpv4: vpc.cidrBlock,
        }, { parent: endpointSg });
        // No egress rule: endpoint ENIs only answer; the provider removes AWS's default allow-all egress.

        const s3Endpoint = new aws.ec2.VpcEndpoint(`${name}-s3`, {
            vpcId: vpc.id,
            serviceName: `com.amazonaws.${args.region}.s3`,
            vpcEndpointType: "Gateway",
            routeTableIds: privateRouteTables.map((rt) => rt.id),
            tags: { Name: `${name}-s3` },
        }, { parent: vpc });

        for (const service of args.interfaceEndpointServices) {
            new aws.ec2.VpcEndpoint(`${name}-${service.replace(/\./g, "-")}`, {
                vpcId: vpc.id,
                serviceName: `com.amazonaws.${args.region}.${service}`,
                vpcEndpointType: "Interface",
                subnetIds: privateSubnets.map((s) => s.id),
                securityGroupIds: [endpointSg.id],
                privateDnsEnabled: true,
                tags: { Name: `${name}-${service}` },
            }, { parent: vpc });
        }

        // Flow logs (ALL traffic) to a stack-scoped group, through a role that may write only there.
        const flowLogGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, {
            name: `/vpc/backend-${args.stack}/flow-logs`,
            retentionInDays: args.logRetentionDays,
        }, { parent: vpc });
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const flowLogRole = new aws.iam.Role(`${name}-flow-logs-role`, {
            description: "VPC Flow Logs delivery to the stack's flow-log group",
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    // Guard against the confused deputy: only flow logs of this account may assume it.
                    Condition: { StringEquals: { "aws:SourceAccount": account } },
                }],
            }),
        }, { parent: flowLogGroup });
        new aws.iam.RolePolicy(`${name}-flow-logs-write`, {
            role: flowLogRole.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    Resource: [flowLogGroup.arn, pulumi.interpolate`${flowLogGroup.arn}:log-stream:*`],
                }],
            }),
        }, { parent: flowLogRole });
        new aws.ec2.FlowLog(`${name}-flow-log`, {
            vpcId: vpc.id,
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: flowLogGroup.arn,
            iamRoleArn: flowLogRole.arn,
            maxAggregationInterval: 60,
            tags: { Name: `${name}-flow-log` },
        }, { parent: vpc });

        this.vpcId = vpc.id;
        this.vpcCidr = vpc.cidrBlock;
        this.availabilityZones = azs;
        this.publicSubnetIds = pulumi.all(publicSubnets.map((s) => s.id));
        this.privateSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
        this.privateRouteTableIds = pulumi.all(privateRouteTables.map((rt) => rt.id));
        this.endpointSecurityGroupId = endpointSg.id;
        this.s3PrefixListId = s3Endpoint.prefixListId;
        this.flowLogGroupName = flowLogGroup.name;
        this.registerOutputs({
            vpcId: this.vpcId,
            vpcCidr: this.vpcCidr,
            availabilityZones: this.availabilityZones,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            privateRouteTableIds: this.privateRouteTableIds,
            endpointSecurityGroupId: this.endpointSecurityGroupId,
            s3PrefixListId: this.s3PrefixListId,
            flowLogGroupName: this.flowLogGroupName,
        });
    }
}
