// The platform's wiring: which component feeds which. index.ts builds it for the running stack and
// exports what operators need; the specs build the same wiring, so they test the real composition.
import * as pulumi from "@pulumi/pulumi";
import { Alerts } from "./components/alerts";
import { Aurora } from "./components/aurora";
import { LogPipeline } from "./components/log-pipeline";
import { Network } from "./components/network";
import { Service } from "./components/service";
import { Settings } from "./config";

export interface Platform {
    network: Network;
    logs: LogPipeline;
    database: Aurora;
    service: Service;
    alerts: Alerts;
}

/** Creates every component for `settings`; `opts` (e.g. a provider or transformations) goes to each. */
export function buildPlatform(settings: Settings, opts: pulumi.ComponentResourceOptions = {}): Platform {
    const network = new Network("backend", {
        ...settings.network,
        stack: settings.stack,
        region: settings.region,
    }, opts);

    // The Service takes the router image, environment and grants from here; the ALB logs to logs.bucketName under logs.albAccessLogPrefix.
    const logs = new LogPipeline("backend-logs", {
        ...settings.logs,
        stack: settings.stack,
        region: settings.region,
        protect: settings.protection.protectStatefulResources,
        logRetentionDays: settings.network.logRetentionDays,
        cpuArchitecture: settings.service.cpuArchitecture,
    }, opts);

    const database = new Aurora("backend-db", {
        ...settings.database,
        protect: settings.protection.protectStatefulResources,
        stack: settings.stack,
        region: settings.region,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        availabilityZones: network.availabilityZones,
        logRetentionDays: settings.network.logRetentionDays,
    }, opts);

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
    }, opts);
    // The database admits the tasks through its own ingress rule: no dependency cycle (see aurora.ts).
    database.allowClient("service-tasks", service.taskSecurityGroupId);

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
    }, opts);

    return { network, logs, database, service, alerts };
}
