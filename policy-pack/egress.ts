// VPC-endpoint-only egress: private workloads reach AWS through endpoints, never the internet.
import type { Policies, PolicyResource } from "@pulumi/policy";
import { dependenciesOf, describe, exemptSchema, isInternetWide, isSet, list, read, referencing, resourcePolicy, stackPolicy, T, UNKNOWN } from "./lib";

/** Route target properties, in the order a message names them. */
const TARGETS: Array<[string, string]> = [
    ["natGatewayId", "a NAT gateway"], ["egressOnlyGatewayId", "an egress-only internet gateway"],
    ["transitGatewayId", "a transit gateway"], ["vpcPeeringConnectionId", "a VPC peering connection"],
    ["networkInterfaceId", "a network interface"], ["vpcEndpointId", "a VPC endpoint"],
    ["carrierGatewayId", "a carrier gateway"], ["localGatewayId", "a local gateway"], ["coreNetworkArn", "a core network"],
    ["gatewayId", "a gateway"],
];

interface WideRoute {
    /** The Route resource, or the route table holding the inline route. */
    owner: PolicyResource;
    /**
     * The route table the route is in, when it is in this stack; the Vpc itself when the route
     * targets the VPC's main route table (`vpc.mainRouteTableId` / `defaultRouteTableId`).
     */
    table: PolicyResource | undefined;
    destination: string;
    toInternetGateway: boolean;
    /** What the route targets, for messages. */
    target: string;
}

const wideSchema = {
    minPrefixIpv4: { type: "integer" as const, minimum: 1, maximum: 32, default: 8, description: "IPv4 destinations shorter than this prefix count as the internet (0.0.0.0/0 always does)." },
    minPrefixIpv6: { type: "integer" as const, minimum: 1, maximum: 128, default: 16, description: "IPv6 destinations shorter than this prefix count as the internet (::/0 always does)." },
};
interface WideConfig { minPrefixIpv4: number; minPrefixIpv6: number }

/** Classifies a route's target: an internet gateway (through its dependency or an igw- id) or something else. */
function classifyTarget(route: unknown, deps: PolicyResource[]): { toInternetGateway: boolean; target: string } {
    for (const [prop, what] of TARGETS) {
        if (!isSet(route, prop)) continue;
        if (prop !== "gatewayId") return { toInternetGateway: false, target: what };
        const id = read(route, prop);
        const igw = (typeof id === "string" && id.startsWith("igw-"))
            || (id === UNKNOWN && deps.some((d) => d.type === T.internetGateway));
        return { toInternetGateway: igw, target: igw ? "the internet gateway" : `gateway ${typeof id === "string" ? id : "(unknown)"}` };
    }
    return { toInternetGateway: false, target: "no target" };
}

/** Every route (Route resources and inline table routes) whose destination is the internet. */
export function wideRoutes(resources: PolicyResource[], config: WideConfig): WideRoute[] {
    const out: WideRoute[] = [];
    const wide = (d: unknown) => d === "0.0.0.0/0" || d === "::/0" || isInternetWide(d, config.minPrefixIpv4, config.minPrefixIpv6);
    for (const route of resources.filter((r) => r.type === T.route)) {
        const destination = [read(route.props, "destinationCidrBlock"), read(route.props, "destinationIpv6CidrBlock")].find(wide);
        if (destination === undefined) continue;
        const tableDeps = dependenciesOf(route, "routeTableId");
        const table = tableDeps.find((d) => d.type === T.routeTable || d.type === T.defaultRouteTable) ?? tableDeps.find((d) => d.type === T.vpc);
        out.push({ owner: route, table, destination, ...classifyTarget(route.props, dependenciesOf(route, "gatewayId")) });
    }
    for (const table of resources.filter((r) => r.type === T.routeTable || r.type === T.defaultRouteTable)) {
        const routes = list(table.props, "routes");
        if (routes === UNKNOWN) continue;
        for (const route of routes) {
            const destination = [read(route, "cidrBlock"), read(route, "ipv6CidrBlock")].find(wide);
            if (destination === undefined) continue;
            out.push({ owner: table, table, destination, ...classifyTarget(route, dependenciesOf(table, "routes")) });
        }
    }
    return out;
}

/** Whether a route table is (or becomes) a VPC's main table, which every unassociated subnet uses. */
function isMainTable(resources: PolicyResource[], table: PolicyResource): boolean {
    return table.type === T.defaultRouteTable || table.type === T.vpc
        || referencing(resources, T.mainRouteTableAssociation, "routeTableId", table).length > 0;
}

/** How messages name a route table (a Vpc stands for its main route table). */
function describeTable(table: PolicyResource): string {
    return table.type === T.vpc ? `the main route table of ${describe(table)}` : describe(table);
}

/** Subnets explicitly associated with a route table. */
function subnetsOf(resources: PolicyResource[], table: PolicyResource): PolicyResource[] {
    return referencing(resources, T.routeTableAssociation, "routeTableId", table).flatMap((a) => dependenciesOf(a, "subnetId", T.subnet));
}

/** Route tables a subnet uses: its explicit association, else the stack's main tables and its VPC's own main table. */
function tablesOf(resources: PolicyResource[], subnet: PolicyResource): PolicyResource[] {
    const explicit = referencing(resources, T.routeTableAssociation, "subnetId", subnet).flatMap((a) => dependenciesOf(a, "routeTableId"));
    if (explicit.length > 0) return explicit;
    const mainTables = resources.filter((r) => (r.type === T.routeTable || r.type === T.defaultRouteTable) && isMainTable(resources, r));
    return [...mainTables, ...dependenciesOf(subnet, "vpcId", T.vpc)];
}

interface TierConfig { publicSubnetTagKey: string; publicSubnetTagValue: string }
const tierSchema = {
    publicSubnetTagKey: { type: "string" as const, default: "Tier", description: "Tag that marks public subnets." },
    publicSubnetTagValue: { type: "string" as const, default: "public", description: "Value of that tag on public subnets." },
};
function isPublicSubnet(subnet: PolicyResource, config: TierConfig): boolean {
    return read(subnet.props, "tags", config.publicSubnetTagKey) === config.publicSubnetTagValue;
}

export const noEgressGateways = resourcePolicy<{ exempt: string[] }>({
    name: "no-nat-or-egress-only-gateway",
    description: "Checks that the stack creates no NAT gateway and no egress-only internet gateway: private subnets reach AWS only through VPC endpoints.",
    configSchema: { properties: { exempt: exemptSchema } },
    types: [T.natGateway, T.egressOnlyGateway],
    check: (r, _config, report) => {
        report(`${describe(r)} would give private subnets a path to the internet; remove it and reach AWS services through VPC endpoints (add an interface endpoint for any service that is missing).`);
    },
});

export const internetRoutesOnlyFromPublicSubnets = stackPolicy<WideConfig & TierConfig & { exempt: string[] }>({
    name: "internet-routes-only-in-public-subnets",
    description: "Checks that no route sends 0.0.0.0/0 or ::/0 anywhere but an internet gateway, and only from route tables associated exclusively with public subnets (never the main table).",
    configSchema: { properties: { ...wideSchema, ...tierSchema, exempt: exemptSchema } },
    check: (resources, config, report) => {
        for (const route of wideRoutes(resources, config)) {
            const where = route.owner === route.table ? describe(route.owner) : `${describe(route.owner)}${route.table ? ` in ${describeTable(route.table)}` : ""}`;
            if (!route.toInternetGateway) {
                report(route.owner, `${where} sends ${route.destination} to ${route.target}; remove the route: private subnets reach AWS through VPC endpoints, and only public tables route to an internet gateway.`);
                continue;
            }
            if (!route.table) {
                // A table this stack does not create (an ID typed in, another stack's): its subnets cannot be checked.
                report(route.owner, `${where} routes ${route.destination} to the internet gateway in a route table this stack does not create, so the subnets that use it cannot be checked; put the route in a public aws.ec2.RouteTable of this stack associated only with public subnets.`);
                continue;
            }
            if (isMainTable(resources, route.table)) {
                report(route.owner, `${where} routes ${route.destination} to the internet gateway from the VPC's main route table, which every unassociated subnet uses; put the route in a dedicated public route table.`);
            }
            for (const subnet of subnetsOf(resources, route.table).filter((s) => !isPublicSubnet(s, config))) {
                report(route.owner, `${where} routes ${route.destination} to the internet gateway but is associated with ${describe(subnet)}, which is not a public subnet (tag ${config.publicSubnetTagKey}=${config.publicSubnetTagValue}); associate that subnet with a private route table.`);
            }
        }
    },
});

export const servicePrivateNetworking = stackPolicy<WideConfig & TierConfig & { exempt: string[] }>({
    name: "ecs-service-private-networking",
    description: "Checks that every ECS service runs without a public IP and only in subnets of this stack whose route tables have no internet route.",
    configSchema: { properties: { ...wideSchema, ...tierSchema, exempt: exemptSchema } },
    check: (resources, config, report) => {
        const internetTables = new Set(wideRoutes(resources, config).map((r) => r.table?.urn).filter(Boolean));
        for (const svc of resources.filter((r) => r.type === T.ecsService)) {
            if (!isSet(svc.props, "networkConfiguration")) {
                report(svc, `${describe(svc)} has no networkConfiguration; use awsvpc networking with private subnets and assignPublicIp: false.`);
                continue;
            }
            if (read(svc.props, "networkConfiguration", "assignPublicIp") === true) {
                report(svc, `${describe(svc)} gives its tasks public IPs; set networkConfiguration.assignPublicIp: false.`);
            }
            const subnets = dependenciesOf(svc, "networkConfiguration", T.subnet);
            if (subnets.length === 0) {
                report(svc, `${describe(svc)} runs in subnets that are not created by this stack, so their routes cannot be checked; pass the Network's private subnet IDs.`);
            }
            for (const subnet of subnets) {
                const routed = tablesOf(resources, subnet).find((t) => internetTables.has(t.urn));
                if (isPublicSubnet(subnet, config) || routed) {
                    report(svc, `${describe(svc)} runs in ${describe(subnet)}, which ${routed ? `routes to the internet through ${describeTable(routed)}` : "is a public subnet"}; use the private subnets (no internet route).`);
                }
            }
        }
    },
});

export const securityGroupNoEgressAnywhere = resourcePolicy<WideConfig>({
    name: "security-group-no-egress-anywhere",
    description: "Checks that no security group allows egress to 0.0.0.0/0 or ::/0 (inline egress blocks, aws.vpc.SecurityGroupEgressRule and egress aws.ec2.SecurityGroupRule alike).",
    configSchema: { properties: { ...wideSchema } },
    types: [T.securityGroup, T.defaultSecurityGroup, T.securityGroupEgressRule, T.securityGroupRule],
    check: (r, config, report) => {
        const wide = (c: unknown) => c === "0.0.0.0/0" || c === "::/0" || isInternetWide(c, config.minPrefixIpv4, config.minPrefixIpv6);
        let cidrs: unknown[] = [];
        if (r.type === T.securityGroup || r.type === T.defaultSecurityGroup) {
            cidrs = (r.props.egress ?? []).flatMap((e: any) => [...(e.cidrBlocks ?? []), ...(e.ipv6CidrBlocks ?? [])]);
        } else if (r.type === T.securityGroupEgressRule) {
            cidrs = [r.props.cidrIpv4, r.props.cidrIpv6];
        } else if (r.props.type === "egress") {
            cidrs = [...(r.props.cidrBlocks ?? []), ...(r.props.ipv6CidrBlocks ?? [])];
        }
        for (const cidr of cidrs.filter(wide)) {
            report(`${describe(r)} allows egress to ${cidr}; allow only the destinations the workload needs (the VPC CIDR for interface endpoints, the S3 prefix list, other security groups).`);
        }
    },
});

function serviceMatcher(service: string): RegExp {
    return new RegExp(`^com\\.amazonaws\\.[a-z0-9-]+\\.${service.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

export const vpcEndpointsRequired = stackPolicy<WideConfig & { gatewayServices: string[]; interfaceServices: string[]; exempt: string[] }>({
    name: "vpc-endpoints-required",
    description: "Checks that every VPC has the configured endpoints (S3 as a gateway attached to every private route table; ecr.api, ecr.dkr, logs, secretsmanager as interfaces) and that every interface endpoint has private DNS on.",
    configSchema: {
        properties: {
            gatewayServices: { type: "array", items: { type: "string" }, default: ["s3"], description: "Services that need a Gateway endpoint." },
            interfaceServices: { type: "array", items: { type: "string" }, default: ["ecr.api", "ecr.dkr", "logs", "secretsmanager"], description: "Services that need an Interface endpoint." },
            ...wideSchema,
            exempt: exemptSchema,
        },
    },
    check: (resources, config, report) => {
        const internetTables = new Set(wideRoutes(resources, config).map((r) => r.table?.urn).filter(Boolean));
        for (const vpc of resources.filter((r) => r.type === T.vpc)) {
            const endpoints = referencing(resources, T.vpcEndpoint, "vpcId", vpc);
            const typeOf = (e: PolicyResource) => read(e.props, "vpcEndpointType") ?? "Gateway"; // the provider's default
            const find = (service: string, type: string) => endpoints.filter((e) => typeOf(e) === type && serviceMatcher(service).test(String(read(e.props, "serviceName"))));
            for (const service of config.gatewayServices) {
                const found = find(service, "Gateway");
                if (found.length === 0) {
                    report(vpc, `${describe(vpc)} has no ${service} gateway endpoint; add an aws.ec2.VpcEndpoint with serviceName com.amazonaws.<region>.${service}, vpcEndpointType "Gateway" and the private route tables.`);
                    continue;
                }
                const attached = new Set(found.flatMap((e) => dependenciesOf(e, "routeTableIds").map((t) => t.urn)));
                const privateTables = referencing(resources, T.routeTable, "vpcId", vpc).filter((t) => !internetTables.has(t.urn));
                for (const table of privateTables.filter((t) => !attached.has(t.urn))) {
                    report(found[0], `${describe(found[0])} is not attached to ${describe(table)}, so its subnets cannot reach ${service}; add the table to routeTableIds.`);
                }
            }
            for (const service of config.interfaceServices) {
                if (find(service, "Interface").length === 0) {
                    report(vpc, `${describe(vpc)} has no ${service} interface endpoint; add an aws.ec2.VpcEndpoint with serviceName com.amazonaws.<region>.${service}, vpcEndpointType "Interface", the private subnets and privateDnsEnabled: true.`);
                }
            }
            for (const e of endpoints.filter((e) => typeOf(e) === "Interface")) {
                const dns = read(e.props, "privateDnsEnabled");
                if (dns !== true && dns !== UNKNOWN) {
                    report(e, `${describe(e)} has private DNS off, so ${String(read(e.props, "serviceName"))} still resolves to public addresses; set privateDnsEnabled: true.`);
                }
            }
        }
    },
});

export const rdsNotPublic = resourcePolicy<{ exempt: string[] }>({
    name: "rds-instance-not-publicly-accessible",
    description: "Checks that no RDS/Aurora database instance is publicly accessible.",
    configSchema: { properties: { exempt: exemptSchema } },
    types: [T.rdsClusterInstance, T.rdsInstance],
    check: (r, _config, report) => {
        if (r.props.publiclyAccessible === true) {
            report(`${describe(r)} is publicly accessible; set publiclyAccessible: false and reach it from the service's security group only.`);
        }
    },
});

export const subnetNoPublicIp = resourcePolicy<{ exempt: string[] }>({
    name: "subnet-no-public-ip-on-launch",
    description: "Checks that no subnet assigns public IPv4 addresses to instances launched in it (mapPublicIpOnLaunch).",
    configSchema: { properties: { exempt: exemptSchema } },
    types: [T.subnet],
    check: (r, _config, report) => {
        if (r.props.mapPublicIpOnLaunch === true) {
            report(`${describe(r)} maps public IPs on launch; set mapPublicIpOnLaunch: false (load balancers get their own addresses).`);
        }
    },
});

export const egressPolicies: Policies = [
    noEgressGateways, internetRoutesOnlyFromPublicSubnets, servicePrivateNetworking,
    securityGroupNoEgressAnywhere, vpcEndpointsRequired, rdsNotPublic, subnetNoPublicIp,
];
