Jets.bootstrap.configure do
  config.codebuild.project.environment = {
    ComputeType: "BUILD_GENERAL1_MEDIUM"
  }
  # The app publishes order events to Kinesis during its post-deploy migration.
  config.codebuild.iam.policy = ["kinesis:PutRecord", "kinesis:DescribeStream"]
end
