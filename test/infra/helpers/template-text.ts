import type { Template } from 'aws-cdk-lib/assertions';

/** Joins an `Fn::Join` with each token written as `{Ref:Id}` or `{Id.Attribute}`, to read the text. */
export function joined(value: unknown): string {
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return token.Ref !== undefined ? `{Ref:${token.Ref}}` : `{${token['Fn::GetAtt']?.join('.')}}`;
    })
    .join(separator);
}

export interface DashboardWidget {
  properties: { title: string; metrics?: unknown[][] };
}

/** A dashboard metric's dimensions: the name/value pairs after namespace and metric name. */
export function dimensionsOf(metric: unknown[]): Record<string, unknown> {
  const pairs = metric.slice(2).filter((part) => typeof part === 'string') as string[];
  return Object.fromEntries(
    pairs.flatMap((part, index) => (index % 2 === 0 ? [[part, pairs[index + 1]]] : [])),
  );
}

export function dashboardOf(template: Template): DashboardWidget[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  return (JSON.parse(joined(dashboard.Properties.DashboardBody)) as { widgets: DashboardWidget[] }).widgets;
}
