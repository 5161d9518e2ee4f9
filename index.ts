// Composition only: read the stack settings, wire the components, export what operators need.
import { loadSettings } from "./config";
import { Network } from "./components/network";
import { Aurora } from "./components/aurora";
import { LogPipeline } from "./components/log-pipeline";
import { Service } from "./components/service";
import { Alerts } from "./components/alerts";

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

// The Service takes the router image, environment and grants from here; the ALB logs to logs.bucketName under logs.albAccessLogPrefix.
const logs = new LogPipeline("backend-logs", {
    ...settings.logs,
    stack: settings.stack,
    region: settings.region,
    protect: settings.protection.protectStatefulResources,
    logRetentionDays: settings.network.logRetentionDays,
    cpuArchitecture: settings.service.cpuArchitecture,
});

export const logBucketName = logs.bucketName;
export const errorLogGroupName = logs.errorLogGroupName;
export const logRouterImage = logs.imageRef;

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

// The API: ECS Fargate tasks (app + FireLens router) behind the ALB and WAF, scaled on CPU and memory.
const service = new Service("backend-api", {
    ...settings.service,
    stack: settings.stack,
    region: settings.region,
    protect: settings.protection.protectStatefulResources,
    logRetentionDays: settings.network.logRetentionDays,
    vpcId: network.vpcId,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    endpointSecurityGroupId: network.endpointSecurityGroupId,
    s3PrefixListId: network.s3PrefixListId,
    dbHost: database.writerEndpoint,
    dbPort: database.port,
    dbName: database.databaseName,
    dbSecretArn: database.secretArn,
    dbKmsKeyArn: database.kmsKeyArn,
    dbSecurityGroupId: database.securityGroupId,
    logBucketName: logs.bucketName,
    albAccessLogPrefix: logs.albAccessLogPrefix,
    routerImage: logs.imageRef,
    routerEnvironment: logs.routerEnvironment,
    routerLogGroupName: logs.routerLogGroupName,
    taskRoleStatements: logs.taskRoleStatements,
    executionRoleStatements: logs.executionRoleStatements,
});
database.allowClient("service-tasks", service.taskSecurityGroupId);

export const serviceUrl = service.url;
export const albDnsName = service.albDnsName;
export const backendRepositoryUrl = service.repositoryUrl;
export const ecsClusterName = service.clusterName;
export const ecsServiceName = service.serviceName;
export const taskSecurityGroupId = service.taskSecurityGroupId;
export const webAclArn = service.webAclArn;

// Alarms, dashboard and ECS events, bound to the dimensions the Service, Aurora and LogPipeline publish.
const alerts = new Alerts("backend", {
    ...settings.alerts,
    stack: settings.stack,
    region: settings.region,
    protect: settings.protection.protectStatefulResources,
    albArnSuffix: service.albArnSuffix,
    targetGroupArnSuffix: service.targetGroupArnSuffix,
    clusterName: service.clusterName,
    clusterArn: service.clusterArn,
    serviceArn: service.serviceArn,
    serviceName: service.serviceName,
    dbClusterIdentifier: database.clusterIdentifier,
    dbWriterInstanceIdentifier: database.writerInstanceIdentifier,
    dbReaderInstanceIdentifiers: database.readerInstanceIdentifiers,
    errorLogGroupName: logs.errorLogGroupName,
});

export const alertsCriticalTopicArn = alerts.criticalTopicArn;
export const alertsWarningTopicArn = alerts.warningTopicArn;
export const alertsDashboardName = alerts.dashboardName;
export const alarmNames = alerts.alarmNames;
