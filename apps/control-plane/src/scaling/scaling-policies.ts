// Makes the scaling policy a query names, with the operator's settings
// (SLUICE_SCALING_POLICY_SETTINGS). A provider of its own so the loop's unit test can hand in
// scripted policies instead of reaching into the loop.
import { Inject, Injectable } from '@nestjs/common';
import { parsePolicySettings, policyByName, type PolicySettings, type ScalingPolicy } from '@sluice/scaling';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

@Injectable()
export class ScalingPolicies {
  private readonly settings: PolicySettings;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.settings = scalingPolicySettings(config.SLUICE_SCALING_POLICY_SETTINGS);
  }

  /** A new instance of the named policy (policies keep state, so each query gets its own). */
  create(name: string): ScalingPolicy {
    return policyByName(name, this.settings);
  }
}

/** The settings app-config already checked (parsePolicySettings), parsed again to get them typed. */
function scalingPolicySettings(text: string | undefined): PolicySettings {
  if (!text) return {};
  const parsed = parsePolicySettings(JSON.parse(text));
  if (!parsed.ok) throw new Error(`SLUICE_SCALING_POLICY_SETTINGS: ${parsed.error}`);
  return parsed.settings;
}
