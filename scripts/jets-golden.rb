# Runs Jets 6's own IAM code on a project's config and prints the remote runner role's
# `Policies` and `ManagedPolicyArns` as Jets writes them into its CloudFormation template.
#
#   ruby scripts/jets-golden.rb JETS_SOURCE PROJECT_DIR [JETS_ENV]
#
# JETS_SOURCE is a checkout of github.com/rubyonjets/jets (6.0.x). Loaded from it, unchanged:
#   lib/jets/core/config/bootstrap/codebuild.rb   the defaults of config.codebuild.iam.*
#   lib/jets/cfn/iam/policy.rb, managed_policy.rb how config values become policies
#   lib/jets/cfn/resource/codebuild/iam_role.rb   which policies the CodebuildRole gets
#   lib/jets/cfn/builder/post_process.rb          the text fix-up after YAML.dump
# Stand-ins for the rest of Jets: ActiveSupport::OrderedOptions (settings), the configure
# block, and the template's HashWithIndifferentAccess (keys written as strings). The
# camelizer Jets applies to resource attributes is not run: it leaves PascalCase keys, the
# only ones these configs use, as they are.
#
# Reads config/jets/bootstrap.rb and config/jets/bootstrap/<JETS_ENV>.rb, the only files that
# feed the role. Prints the YAML, or `error: <exception class>` and exits 1 when Jets' code
# raises on the config (then `jets bootstrap` fails too).
#
# scripts/jets-golden regenerates the expected files of tests/fixtures/jets-golden with it.

require "yaml"

jets_source, project, env = ARGV
abort "usage: ruby scripts/jets-golden.rb JETS_SOURCE PROJECT_DIR [JETS_ENV]" unless jets_source && project
env ||= "dev"
lib = File.join(jets_source, "lib")

# ActiveSupport::OrderedOptions: a hash read and written through methods. Unknown settings read
# as fresh options so unrelated settings (`config.domain.x = ...`) can be assigned.
class Options
  def initialize
    @values = {}
  end

  def method_missing(name, *args)
    key = name.to_s
    if key.end_with?("=")
      @values[key.chomp("=").to_sym] = args.first
    else
      @values.fetch(name) { @values[name] = Options.new }
    end
  end

  def respond_to_missing?(*)
    true
  end
end

module ActiveSupport
  OrderedOptions = ::Options
end

module Jets
  module Core
    module Config
      class Bootstrap
      end
    end
  end

  module Cfn
    class Base
      def config
        Jets.bootstrap.config
      end
    end

    module Resource
      module Codebuild
      end
    end

    module Builder
    end
  end
end

load File.join(lib, "jets/core/config/bootstrap/codebuild.rb")
load File.join(lib, "jets/cfn/iam/policy.rb")
load File.join(lib, "jets/cfn/iam/managed_policy.rb")
load File.join(lib, "jets/cfn/resource/codebuild/iam_role.rb")
load File.join(lib, "jets/cfn/builder/post_process.rb")

class BootstrapConfig < Jets::Core::Config::Bootstrap
  include Jets::Core::Config::Bootstrap::Codebuild
end

# `Jets.bootstrap.configure do ... end`; other configure blocks are accepted and ignored.
class Configurable
  attr_reader :config

  def initialize(config)
    @config = config
  end

  def configure(&block)
    instance_eval(&block)
  end
end

module Jets
  class << self
    def bootstrap
      @bootstrap ||= Configurable.new(BootstrapConfig.new)
    end

    def deploy
      @deploy ||= Configurable.new(Options.new)
    end

    def project
      @project ||= Configurable.new(Options.new)
    end
  end
end

def stringify(value)
  case value
  when Hash then value.to_h { |k, v| [k.to_s, stringify(v)] }
  when Array then value.map { |v| stringify(v) }
  else value
  end
end

begin
  ["config/jets/bootstrap.rb", "config/jets/bootstrap/#{env}.rb"].each do |file|
    path = File.join(project, file)
    load path if File.exist?(path)
  end
  role = Jets::Cfn::Resource::Codebuild::IamRole.new
  properties = {
    "Policies" => stringify(role.policies),
    "ManagedPolicyArns" => stringify(role.managed_policy_arns)
  }
  text = YAML.dump(properties, line_width: -1)
  print Jets::Cfn::Builder::PostProcess.new(text).process
rescue StandardError => e
  puts "error: #{e.class}"
  exit 1
end
