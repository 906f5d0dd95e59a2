import { describe, expect, it } from 'vitest';
import { engineClientId, instanceOfClientId } from './topics';

describe('engine client ids', () => {
  it('name the instance, and give it back', () => {
    expect(engineClientId('orders-2')).toBe('sluice-engine-orders-2');
    expect(instanceOfClientId(engineClientId('orders-2'))).toBe('orders-2');
  });

  it('name no instance for other clients or an empty name', () => {
    expect(instanceOfClientId('sluice-control-plane')).toBeUndefined();
    expect(instanceOfClientId('sluice-engine-')).toBeUndefined();
    expect(instanceOfClientId('kafkajs')).toBeUndefined();
  });
});
