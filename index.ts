// Composition only: read the stack settings, wire the components, export what operators need.
import { loadSettings } from "./config";
import { Network } from "./components/network";
import { Aurora } from "./components/aurora";

const settings = loadSettings();

const network = new Network("backend", {
    ...settings.network,
    stack: settings.stack,
    region: settings.region,
});

export const vpcId = network.vpcId;
export const privateSubnetIds = network.privateSubnetIds;
export const publicSubnetIds = network.publicSubnetIds;
export const availabilityZones = network.availabilityZones;

// The Service admits its tasks with database.allowClient("service-tasks", service.taskSecurityGroupId).
const database = new Aurora("backend-db", {
    ...settings.database,
    protect: settings.protection.protectStatefulResources,
    stack: settings.stack,
    region: settings.region,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    availabilityZones: network.availabilityZones,
    logRetentionDays: settings.network.logRetentionDays,
});

export const dbWriterEndpoint = database.writerEndpoint;
export const dbReaderEndpoint = database.readerEndpoint;
export const dbPort = database.port;
export const dbName = database.databaseName;
export const dbSecretArn = database.secretArn;
export const dbClusterIdentifier = database.clusterIdentifier;
