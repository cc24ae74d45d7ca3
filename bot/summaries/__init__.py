"""Weekly summaries for partner managers: week windows, schedules, figures and the chart."""
