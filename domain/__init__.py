"""Pure domain rules: periods, working days, pace, forecast, ranking, money. No I/O."""
