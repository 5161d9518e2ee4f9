// Composition only: read the stack settings, build the platform, export what operators need.
import { loadSettings } from "./config";
import { buildPlatform } from "./platform";

const { network, logs, database, service, alerts } = buildPlatform(loadSettings());

export const vpcId = network.vpcId;
export const privateSubnetIds = network.privateSubnetIds;
export const publicSubnetIds = network.publicSubnetIds;
export const availabilityZones = network.availabilityZones;

export const logBucketName = logs.bucketName;
export const errorLogGroupName = logs.errorLogGroupName;
export const logRouterImage = logs.imageRef;

export const dbWriterEndpoint = database.writerEndpoint;
export const dbReaderEndpoint = database.readerEndpoint;
export const dbPort = database.port;
export const dbName = database.databaseName;
export const dbSecretArn = database.secretArn;
export const dbClusterIdentifier = database.clusterIdentifier;

export const serviceUrl = service.url;
export const albDnsName = service.albDnsName;
export const backendRepositoryUrl = service.repositoryUrl;
export const ecsClusterName = service.clusterName;
export const ecsServiceName = service.serviceName;
export const taskSecurityGroupId = service.taskSecurityGroupId;
export const webAclArn = service.webAclArn;

export const alertsCriticalTopicArn = alerts.criticalTopicArn;
export const alertsWarningTopicArn = alerts.warningTopicArn;
export const alertsDashboardName = alerts.dashboardName;
export const alarmNames = alerts.alarmNames;
