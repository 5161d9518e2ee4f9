// Composition only: read the stack settings, wire the components, export what operators need.
import { loadSettings } from "./config";
import { Network } from "./components/network";

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
