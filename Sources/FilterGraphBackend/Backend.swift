import CFFmpeg
import Planner
