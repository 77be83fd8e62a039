"""Excel templates, import (python-calamine) and export (openpyxl) of the registers."""
