// Shapes of the alerting API's answers (OpenAPI: Alert, Silence, Receiver, NotificationDelivery).
export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface Alert {
  id: string;
  rule: string;
  query: string;
  queryId: string;
  state: 'pending' | 'firing' | 'resolved';
  activeAt: string | null;
  firedAt: string | null;
  resolvedAt: string | null;
  value: number | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  silencedBy: string[];
  acknowledged: { at: string; by: string; comment: string } | null;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  state: 'pending' | 'active' | 'expired';
}

export interface Receiver {
  id: string;
  name: string;
  kind: string;
  url: string;
  matchers: Matcher[];
  enabled: boolean;
}

export interface Delivery {
  id: string;
  groupKey: string;
  status: string;
  attempts: number;
  httpStatus: number | null;
  lastError: string | null;
  test: boolean;
  createdAt: string;
  deliveredAt: string | null;
}
