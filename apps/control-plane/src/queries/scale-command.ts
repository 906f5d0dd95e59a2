// A scale request, valid by construction. The API, the scaling loop and any job build it with
// `scaleCommand`, and QueriesService.scale accepts nothing else, so the instance bounds are checked
// on one path whoever asks (before, only the controller checked them and the loop could bypass it).
import { ZodPipe } from '../validation/zod-body.pipe';
import { scaleBody } from './query.dto';

declare const validated: unique symbol;

export interface ScaleCommand {
  readonly instances: number;
  readonly [validated]: true;
}

/** 400 naming the field when the request is not a whole number of instances in 1..maxInstances. */
export function scaleCommand(raw: unknown, maxInstances: number): ScaleCommand {
  return new ZodPipe(scaleBody(maxInstances)).transform(raw) as ScaleCommand;
}
