import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { RegistryCleanerConfigError } from './errors';
import { RegistryCleaner } from './registry-cleaner';
import type { RegistryCleanerProps } from './registry-cleaner-props';

/** Configuration of the deployable stack (what `bin/app.ts` reads from CDK context). */
export interface RegsweepStackProps extends StackProps {
  /** The cleaner's props; `vpc` and `alarmTopic` come from `vpcId` and `alarmEmail` here. */
  readonly cleaner: Omit<RegistryCleanerProps, 'vpc' | 'vpcSubnets' | 'alarmTopic'>;
  /**
   * Where alarm notifications go: a new SNS topic with this email subscription (confirm the
   * email AWS sends).
   * @default no topic: alarms show in CloudWatch only
   */
  readonly alarmEmail?: string;
  /**
   * An existing VPC to look up (needs the stack's `env` and AWS credentials at synth, once: the
   * lookup is cached in `cdk.context.json`).
   * @default no VPC
   */
  readonly vpcId?: string;
  /**
   * Subnets of `vpcId` for the worker and sweep functions.
   * @default the VPC's private subnets with egress
   */
  readonly subnetIds?: readonly string[];
}

/** The regsweep stack: one `RegistryCleaner`, an optional alarm topic, and the outputs to wire it up. */
export class RegsweepStack extends Stack {
  public readonly cleaner: RegistryCleaner;
  public readonly alarmTopic?: sns.Topic;

  public constructor(scope: Construct, id: string, props: RegsweepStackProps) {
    super(scope, id, props);
    if (props.subnetIds !== undefined && props.vpcId === undefined) {
      throw new RegistryCleanerConfigError([
        'subnetIds: only applies together with vpcId; set vpcId or remove subnetIds',
      ]);
    }
    if (props.alarmEmail !== undefined) {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'regsweep alarms',
        enforceSSL: true,
      });
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(this.alarmTopic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and the ' +
          'topic carries only alarm state changes (alarm names and thresholds), no registry data or secrets.',
      });
    }
    const vpc = props.vpcId ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId }) : undefined;
    const vpcSubnets = props.subnetIds && {
      subnets: props.subnetIds.map((subnetId, index) =>
        ec2.Subnet.fromSubnetId(this, `Subnet${index}`, subnetId),
      ),
    };

    this.cleaner = new RegistryCleaner(this, 'RegistryCleaner', {
      ...props.cleaner,
      ...(vpc && { vpc }),
      ...(vpcSubnets && { vpcSubnets }),
      ...(this.alarmTopic && { alarmTopic: this.alarmTopic }),
    });

    new CfnOutput(this, 'WebhookUrl', {
      description: 'The registry notification endpoint (Function URL)',
      value: this.cleaner.webhookUrl.url,
    });
    new CfnOutput(this, 'RegistryNotificationsConfig', {
      description:
        "Paste into the registry's config.yml; replace the placeholder with the secret's webhookToken",
      value: this.cleaner.notificationsConfig,
    });
    new CfnOutput(this, 'SecretArn', {
      description:
        'Registry credentials and webhookToken (JSON); read the token with the WebhookTokenCommand',
      value: this.cleaner.secret.secretArn,
    });
    new CfnOutput(this, 'WebhookTokenCommand', {
      description: 'Prints the webhook token for the Authorization header',
      value: `aws secretsmanager get-secret-value --secret-id ${this.cleaner.secret.secretArn} --query SecretString --output text | jq -r .webhookToken`,
    });
    new CfnOutput(this, 'SweepFunctionName', {
      description: 'Invoke it to sweep now: aws lambda invoke --function-name <name> /dev/stdout',
      value: this.cleaner.sweepFunction.functionName,
    });
    new CfnOutput(this, 'DashboardName', {
      value: this.cleaner.monitoring.dashboard.dashboardName,
    });
  }
}
