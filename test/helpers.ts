// The one test helper: runs code under the shared mocks (tools/mocks.ts) for a real stack's
// settings and returns what was registered, with parents and dependencies.
import { parseSettings, Settings } from "../config";
import { installMocks, ResourceRecorder, settle, valueOf } from "../tools/mock-harness";
import { readStackConfig } from "../tools/stack-config";

export { valueOf };
export type { RecordedResource } from "../tools/mock-harness";

export type StackName = "dev" | "prod";

/**
 * Overrides of fully qualified config keys, as the CLI would pass them; `undefined` removes a key
 * the stack file sets (like deleting the line).
 */
export type ConfigOverrides = Record<string, string | undefined>;

/** The stack's config values (Pulumi.yaml + Pulumi.<stack>.yaml, as the CLI passes them) with the overrides applied. */
function stackValues(stack: StackName, overrides: ConfigOverrides): Record<string, string> {
    const values: Record<string, string> = { ...readStackConfig(stack).values };
    for (const [key, value] of Object.entries(overrides)) {
        if (value === undefined) delete values[key];
        else values[key] = value;
    }
    return values;
}

/** The validated settings of a stack, read from Pulumi.yaml + Pulumi.<stack>.yaml like the CLI does. */
export function stackSettings(stack: StackName, overrides: ConfigOverrides = {}): Settings {
    return parseSettings({ stack, values: stackValues(stack, overrides) });
}

export interface Run<T> {
    settings: Settings;
    recorder: ResourceRecorder;
    result: T;
}

/**
 * Builds `build(settings)` under fresh mocks for the stack and waits for every registration.
 * Each call starts a new mock monitor, so specs do not see each other's resources.
 */
export async function runUnderMocks<T>(stack: StackName, build: (settings: Settings) => T, overrides: ConfigOverrides = {}): Promise<Run<T>> {
    const settings = stackSettings(stack, overrides);
    // The runtime sees the same values as the settings (aws:* overrides reach the provider's config too).
    const recorder = await installMocks({ project: settings.project, stack, region: settings.region, config: stackValues(stack, overrides) });
    const result = build(settings);
    await settle();
    return { settings, recorder, result };
}
