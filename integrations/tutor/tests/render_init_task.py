"""Print the init task of the microcred plugin as Tutor renders it for the project at argv[1]
(JSON list of [service, script]); run with the Python that has tutor and the plugin."""
import json
import sys

from tutor import config as tutor_config
from tutor import env, hooks

root = sys.argv[1]
hooks.Actions.CORE_READY.do()
hooks.Actions.PROJECT_ROOT_READY.do(root)  # loads the enabled plugins, as the tutor command does
config = tutor_config.load(root)
tasks = [(service, env.render_str(config, task)) for service, task in hooks.Filters.CLI_DO_INIT_TASKS.iterate()
         if service == "microcred"]
print(json.dumps(tasks))
