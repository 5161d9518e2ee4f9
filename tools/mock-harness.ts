// Runs Pulumi code under mocks and records every registration with what the mock callbacks are
// not given: parent, dependencies, property dependencies, provider, protect and retainOnDelete.
// Those come from the register requests themselves, read by wrapping the mock monitor.
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
import { mockCall, mockResource, MockContext } from "./mocks";

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    id: string | null;
    parent: string | null;
    custom: boolean;
    inputs: Record<string, any>;
    outputs: Record<string, any>;
    /** Output properties the mocks invented; a real preview knows them only after apply. */
    computed: string[];
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    provider: string | null;
    protect: boolean;
    retainOnDelete: boolean;
}

export class ResourceRecorder {
    readonly resources: RecordedResource[] = [];
    readonly calls: Array<{ token: string; inputs: Record<string, any> }> = [];

    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource of a type (optionally whose name ends with `nameSuffix`); throws otherwise. */
    one(type: string, nameSuffix?: string): RecordedResource {
        const found = this.ofType(type).filter((r) => nameSuffix === undefined || r.name.endsWith(nameSuffix));
        if (found.length !== 1) {
            throw new Error(`expected exactly one ${type}${nameSuffix ? ` named *${nameSuffix}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
        }
        return found[0];
    }

    byUrn(urn: string): RecordedResource | undefined {
        return this.resources.find((r) => r.urn === urn);
    }
}

export interface HarnessOptions {
    project: string;
    stack: string;
    region: string;
    /** Fully qualified config keys → string values, as the CLI passes them. */
    config?: Record<string, string>;
    secretKeys?: string[];
    /** Run as `pulumi preview` (true) or `pulumi up` (false). */
    preview?: boolean;
}

type Callback = (err: unknown, resp: any) => void;

/** Installs mocks and the recorder. Call before the code under test creates resources. */
export async function installMocks(opts: HarnessOptions): Promise<ResourceRecorder> {
    const recorder = new ResourceRecorder();
    const ctx: MockContext = { region: opts.region, stack: opts.stack };
    const computedByKey = new Map<string, string[]>();

    pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);
    await pulumi.runtime.setMocks({
        newResource(args) {
            const made = mockResource(args, ctx);
            computedByKey.set(`${args.type}::${args.name}`, made.computed);
            return { id: made.id, state: made.state };
        },
        call(args) {
            recorder.calls.push({ token: args.token, inputs: args.inputs });
            return mockCall(args, ctx);
        },
    }, opts.project, opts.stack, opts.preview ?? true);

    const monitor = settings.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: Callback) => {
        const request = {
            type: req.getType() as string,
            name: req.getName() as string,
            parent: (req.getParent() as string) || null,
            custom: req.getCustom() as boolean,
            dependencies: req.getDependenciesList() as string[],
            propertyDependencies: Object.fromEntries(
                (req.getPropertydependenciesMap().toArray() as Array<[string, any]>)
                    .map(([prop, deps]) => [prop, deps[0] as string[]])),
            provider: (req.getProvider() as string) || null,
            protect: Boolean(req.getProtect()),
            retainOnDelete: Boolean(req.getRetainondelete()),
            inputs: deserializeProperties(req.getObject()),
        };
        return register(req, (err: unknown, resp: any) => {
            if (!err) {
                const urn: string = resp.getUrn();
                const computed = computedByKey.get(`${request.type}::${request.name}`) ?? [];
                recorder.resources.push({
                    urn,
                    type: request.type,
                    name: request.name,
                    id: resp.getId() || null,
                    parent: request.parent,
                    custom: request.custom,
                    inputs: request.inputs,
                    outputs: resp.getObject()?.toJavaScript() ?? {},
                    computed,
                    dependencies: request.dependencies,
                    propertyDependencies: request.propertyDependencies,
                    provider: request.provider,
                    protect: request.protect,
                    retainOnDelete: request.retainOnDelete,
                });
            }
            callback(err, resp);
        });
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: Callback) => {
        const recorded = recorder.byUrn(req.getUrn());
        if (recorded) recorded.outputs = deserializeProperties(req.getOutputs());
        return registerOutputs(req, callback);
    };
    return recorder;
}

/** Resolves once every registration started so far (and any it triggers) has completed. */
export async function settle(): Promise<void> {
    // waitForRPCs is internal to @pulumi/pulumi (not in its typings) but is what the runtime itself awaits.
    await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** The value of an Output (or plain value), for assertions. */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => { resolve(v as T); return v; }));
}
