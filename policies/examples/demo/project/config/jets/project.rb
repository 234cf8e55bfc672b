Jets.project.configure do
  config.name = "demo"
end
