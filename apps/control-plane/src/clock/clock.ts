// The time services read, injected so a test can set it (a fake clock) instead of patching the
// global Date.now. Abstract class rather than an interface: Nest uses it as the provider token.
import { Injectable } from '@nestjs/common';

export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
