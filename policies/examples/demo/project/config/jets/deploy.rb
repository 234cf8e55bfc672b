Jets.deploy.configure do
  config.lambda.function.vpc_config = {
    SecurityGroupIds: ["sg-0a1b2c3d4e5f60718"],
    SubnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  }
  config.lambda.function.environment = {
    API_KEY: "SSM:/#{Jets.env}/API_KEY"
  }
end
