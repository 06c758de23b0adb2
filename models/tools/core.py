"""The common core every sector template shares: finance (cash, debt), workforce (hiring
with a vacancy pipeline, attrition driven by satisfaction), customers (marketing and word
of mouth against a finite market, churn driven by service quality) and the innovation
pipeline (ideas -> development -> launched features).

The sector supplies, as auxes or constants with these names:
  revenue, variable_costs            ($/Month)
  required_headcount                 (people: work to be done / productivity per person)
  market_size                        (customers)
  marketing_reach                    (customers/Month reached by paid acquisition)
  word_of_mouth_multiplier           (dimensionless: how recommendable the offer is)
  service_quality                    (dimensionless, 1 = service at its target)
  churn_multiplier                   (dimensionless, sector effects on churn)
  development_capacity               (person-months/Month put into the feature pipeline)
  development_time                   (Months)
and attaches its own extra cost flows with `cash_outflow(m, name)`.
"""

# Each parameter: value, and the source shown in the README.
CORE_SOURCES = {
    'bench_buffer': 'JPMorgan Chase Institute, *Cash is King* (2016): median 27 cash-buffer days',
    'bench_de': 'debt-to-equity ranges (firstcitizens.com, beancount.io), smb-benchmarks.md',
    'assume': 'modelling assumption (no benchmark in smb-benchmarks.md)',
}


def cash_outflow(m, name):
    m.attach('cash', outflow=name)
    m.extra_costs.append(name)


def add_core(m, p):
    """p: dict of sector values for the core constants (see the keys used below)."""
    m.extra_costs = []
    A = CORE_SOURCES['assume']

    # ------------------------------------------------------------------ finance
    m.group = 'Finance: cash, debt, costs'
    m.stock('cash', 'initial_cash', '$',
            'Cash in the bank. May go negative (an overdraft the owner must cover): '
            'that is the distress signal, so it is not clamped.',
            inflows=['revenue_receipts', 'borrowing'],
            outflows=['payroll', 'fixed_cost_payments', 'variable_cost_payments',
                      'discretionary_spending', 'interest_payments', 'debt_repayment',
                      'owner_distributions'],
            non_negative=False)
    m.stock('debt', 'initial_debt', '$', 'Outstanding bank debt (term loan plus credit line).',
            inflows=['borrowing'], outflows=['debt_repayment'])
    m.stock('cumulative_profit', 0, '$',
            'Profit accumulated since month 0: the long-run value measure.',
            inflows=['profit_accrual'], non_negative=False)
    m.const('initial_cash', p['initial_cash'], '$', 'Cash at month 0.', p['initial_cash_src'])
    m.const('initial_debt', p['initial_debt'], '$', 'Debt at month 0.', p.get('initial_debt_src', A))
    m.const('fixed_costs', p['fixed_costs'], '$/Month',
            'Rent, software, insurance, other overhead.', p['fixed_costs_src'])
    m.flow('revenue_receipts', 'revenue', '$/Month', 'Revenue collected (no receivables delay).')
    m.flow('payroll', 'headcount * cost_per_employee', '$/Month', 'Fully loaded payroll.')
    m.flow('fixed_cost_payments', 'fixed_costs', '$/Month', 'Fixed overhead paid.')
    m.flow('variable_cost_payments', 'variable_costs', '$/Month',
           'Costs that scale with volume (see variable_costs).')
    m.flow('discretionary_spending', 'discretionary_budget', '$/Month',
           'The shared discretionary budget, spent as the levers split it.')
    m.flow('interest_payments', 'debt * annual_interest_rate / 12', '$/Month', 'Interest on debt.')
    m.flow('borrowing',
           'MIN(MAX(0, debt_limit - debt), MAX(0, debt_target - debt) + MAX(0, desired_cash - cash))'
           ' / borrowing_time', '$/Month',
           'Draws on the credit line: toward the owner\'s target debt, plus emergency borrowing '
           'when cash runs below the desired buffer; never above the bank\'s limit.')
    m.flow('debt_repayment', 'debt / loan_term + MAX(0, debt - debt_limit) / covenant_cure_time',
           '$/Month', 'Scheduled amortisation, plus forced repayment when revenue falls and the '
           'debt exceeds the bank\'s limit (a covenant breach being cured).')
    m.flow('owner_distributions',
           'MAX(0, cash - distribution_threshold_months * smoothed_operating_costs) / '
           'distribution_time', '$/Month',
           'Cash above the owner\'s comfort level is paid out (owner draws, dividends).')
    m.const('distribution_threshold_months', 3, 'Months',
            'Cash, in months of operating costs, above which the owner takes money out.', A)
    m.const('distribution_time', 6, 'Months', 'Time over which excess cash is paid out.', A)
    m.flow('profit_accrual', 'monthly_profit', '$/Month', 'Adds each month\'s profit.')
    m.aux('smoothed_revenue', 'SMTH1(revenue, revenue_smoothing_time, %s)' % p['revenue_init'], '$/Month',
          'Revenue as management perceives it (budgets are set from it).')
    m.const('revenue_smoothing_time', 3, 'Months', 'Time to perceive a change in revenue.', A)
    m.aux('annual_revenue', 'smoothed_revenue * 12', '$/Year', 'Run-rate annual revenue.')
    m.const('base_monthly_salary', p['salary'], '$/Month/person',
            'Market salary per employee per month.', p['salary_src'])
    m.const('payroll_overhead_rate', 0.25, 'dimensionless',
            'Employer taxes and benefits on top of salary.', A)
    m.const('wage_premium', 0, 'dimensionless',
            'Pay above (+) or below (-) the market salary. Employee satisfaction vs '
            'profitability: higher pay raises satisfaction and retention, costs margin.', A,
            lever=(-0.2, 0.4))
    m.aux('cost_per_employee',
          'base_monthly_salary * (1 + wage_premium) * (1 + payroll_overhead_rate)',
          '$/Month/person', 'Fully loaded monthly cost of one employee.')
    m.aux('operating_costs',
          ' + '.join(['payroll', 'fixed_cost_payments', 'variable_cost_payments',
                      'discretionary_spending'] + m.extra_costs), '$/Month',
          'All operating costs (interest excluded).')  # rewritten in finish_core
    m.aux('smoothed_operating_costs', 'SMTH1(operating_costs, 3, smoothed_revenue)', '$/Month',
          'Operating costs as management perceives them (starting from break-even).')
    m.const('desired_cash_months', p.get('desired_cash_months', 1.5), 'Months',
            'Cash buffer management wants, in months of operating costs.',
            CORE_SOURCES['bench_buffer'] + '; set above the median 0.9 months')
    m.aux('desired_cash', 'desired_cash_months * smoothed_operating_costs', '$',
          'Desired cash buffer.')
    m.aux('cash_adequacy', 'cash / MAX(desired_cash, 1)', 'dimensionless',
          'Cash relative to the desired buffer (1 = exactly the buffer).')
    m.aux('cash_months', 'cash / MAX(smoothed_operating_costs, 1)', 'Months',
          'Cash buffer in months of operating costs (stability measure).')
    m.aux('effect_of_cash_on_spending', 'cash_adequacy', 'dimensionless',
          'Owners cut discretionary spending when cash is short and loosen it when flush.',
          gf=([-1, 0, 0.5, 1, 2, 4], [0, 0.1, 0.6, 1, 1.15, 1.3]))
    m.const('growth_investment_share', p['growth_investment_share'], 'dimensionless',
            'Share of revenue reinvested as the discretionary growth budget (marketing, '
            'service, improvement). Growth vs stability: more budget, faster growth, thinner '
            'cash buffer.', p['growth_investment_share_src'], lever=(0.05, 0.5))
    m.aux('discretionary_budget',
          'growth_investment_share * smoothed_revenue * effect_of_cash_on_spending', '$/Month',
          'The shared budget that the sector levers split between poles.')
    m.const('debt_target_ratio', p.get('debt_target_ratio', 0.1), 'Years',
            'Debt the owner is willing to carry, as a multiple of annual revenue. Financial '
            'leverage vs prudence: borrowed cash keeps growth spending up, but costs interest '
            'and is called back when revenue falls.', CORE_SOURCES['bench_de'],
            lever=(0, 0.6))
    m.const('credit_limit_ratio', p.get('credit_limit_ratio', 0.6), 'Years',
            'The bank\'s limit on debt, as a multiple of annual revenue.', CORE_SOURCES['bench_de'])
    m.aux('debt_target', 'debt_target_ratio * annual_revenue', '$', 'Debt the owner aims for.')
    m.aux('debt_limit', 'credit_limit_ratio * annual_revenue', '$', 'Most the bank will lend.')
    m.const('base_interest_rate', p.get('base_interest_rate', 0.08), '1/Year',
            'Interest rate on SMB debt at low leverage.', A)
    m.const('leverage_spread', 0.1, '1/Year',
            'Extra interest per unit of debt/annual revenue (riskier borrower, higher rate).', A)
    m.aux('leverage_ratio', 'debt / MAX(annual_revenue, 1)', 'Years',
          'Debt over annual revenue.')
    m.aux('annual_interest_rate', 'base_interest_rate + leverage_spread * leverage_ratio', '1/Year',
          'Interest rate charged on debt.')
    m.const('borrowing_time', 1, 'Months', 'Time to arrange a draw on the credit line.', A)
    m.const('loan_term', 36, 'Months', 'Amortisation period of the debt.', A)
    m.const('covenant_cure_time', 3, 'Months', 'Time the bank allows to bring debt back under '
            'the limit.', A)
    m.aux('monthly_profit', 'revenue - operating_costs - interest_payments', '$/Month',
          'Monthly net profit before tax.')
    m.aux('profit_margin', 'monthly_profit / MAX(revenue, 1)', 'dimensionless',
          'Net profit over revenue.')

    # ---------------------------------------------------------------- workforce
    m.group = 'Workforce: hiring, attrition, satisfaction, capacity'
    m.stock('open_positions', 0, 'people', 'Vacancies being recruited for (the hiring delay).',
            inflows=['position_opening'], outflows=['hiring', 'position_cancellation'])
    m.const('initial_headcount', p['initial_headcount'], 'people', 'Employees at month 0.', A)
    m.stock('headcount', 'initial_headcount', 'people', 'Employees.',
            inflows=['hiring'], outflows=['attrition', 'layoffs'])
    m.flow('position_opening', 'MAX(0, headcount_gap - open_positions) / hiring_decision_time',
           'people/Month', 'Vacancies opened to close the gap to desired headcount.')
    m.flow('position_cancellation',
           'MAX(0, open_positions - MAX(0, headcount_gap)) / hiring_decision_time',
           'people/Month', 'Vacancies withdrawn when the gap closes.')
    m.flow('hiring', 'open_positions / time_to_fill_position', 'people/Month',
           'Vacancies filled.')
    m.flow('attrition',
           'headcount * base_attrition_rate * effect_of_satisfaction_on_attrition',
           'people/Month', 'Voluntary quits.')
    m.flow('layoffs', 'MAX(0, headcount - desired_headcount - 0.1 * headcount) / layoff_time',
           'people/Month', 'Layoffs when headcount is more than 10 % above what is desired.')
    m.const('hiring_decision_time', 1, 'Months', 'Time to decide to open or withdraw a vacancy.', A)
    m.const('time_to_fill_position', p.get('time_to_fill', 2), 'Months',
            'Average time to fill a vacancy.', A)
    m.const('layoff_time', 3, 'Months', 'Time to reduce surplus staff.', A)
    m.const('base_attrition_rate', p.get('attrition', 0.015), '1/Month',
            'Monthly quit rate at normal satisfaction (about 18 %/year).',
            A)
    m.const('payroll_budget_ratio', p['payroll_budget_ratio'], 'dimensionless',
            'Share of revenue the owner allows for payroll (caps hiring).', p['payroll_src'])
    m.aux('affordable_headcount', 'smoothed_revenue * payroll_budget_ratio / cost_per_employee',
          'people', 'Headcount the payroll budget allows.')
    m.aux('desired_headcount', 'MIN(required_headcount, affordable_headcount)', 'people',
          'Staff needed for the work, capped by what payroll can afford.')
    m.aux('headcount_gap', 'desired_headcount - headcount', 'people',
          'Shortfall (+) or surplus (-) of staff.')
    m.aux('workload_ratio', 'required_headcount / MAX(headcount, 0.1)', 'dimensionless',
          'Work demanded over staff available (1 = normal load).')
    m.aux('relative_pay', '1 + wage_premium', 'dimensionless', 'Pay relative to market.')
    m.aux('effect_of_workload_on_satisfaction', 'workload_ratio', 'dimensionless',
          'Overwork lowers satisfaction; slack raises it a little.',
          gf=([0, 0.5, 0.8, 1, 1.2, 1.5, 2, 3], [1.1, 1.1, 1.05, 1, 0.85, 0.65, 0.4, 0.25]))
    m.aux('effect_of_pay_on_satisfaction', 'relative_pay', 'dimensionless',
          'Pay above market raises satisfaction with diminishing returns.',
          gf=([0.6, 0.8, 1, 1.2, 1.4, 1.6], [0.4, 0.7, 1, 1.18, 1.26, 1.3]))
    m.aux('indicated_satisfaction',
          'effect_of_workload_on_satisfaction * effect_of_pay_on_satisfaction' +
          p.get('satisfaction_extra', ''), 'dimensionless',
          'Satisfaction the current conditions would produce in the long run.')
    m.const('satisfaction_adjustment_time', 4, 'Months', 'Time for morale to follow conditions.', A)
    m.aux('employee_satisfaction',
          'SMTH1(indicated_satisfaction, satisfaction_adjustment_time, 1)', 'dimensionless',
          'Employee satisfaction index (1 = normal).')
    m.aux('effect_of_satisfaction_on_attrition', 'employee_satisfaction', 'dimensionless',
          'Unhappy staff quit more.',
          gf=([0.25, 0.5, 0.75, 1, 1.25, 1.5], [3, 2, 1.4, 1, 0.7, 0.6]))
    m.aux('effect_of_satisfaction_on_productivity', 'employee_satisfaction', 'dimensionless',
          'Unhappy staff get less done.',
          gf=([0.25, 0.5, 0.75, 1, 1.25, 1.5], [0.6, 0.75, 0.9, 1, 1.05, 1.08]))
    m.aux('effective_headcount', 'headcount * effect_of_satisfaction_on_productivity', 'people',
          'Staff in full-productivity equivalents: the capacity the sector splits.')

    # ---------------------------------------------------------------- customers
    m.group = 'Customers: acquisition, word of mouth, churn'
    m.const('initial_customers', p['initial_customers'], 'customers', 'Customers at month 0.', A)
    m.stock('customers', 'initial_customers', 'customers', 'Active customers.',
            inflows=['customer_acquisition'], outflows=['customer_churn'])
    m.aux('potential_customers', 'MAX(0, market_size - customers)', 'customers',
          'Prospects not yet customers (churned customers return here).')
    m.aux('potential_fraction', 'potential_customers / MAX(market_size, 1)', 'dimensionless',
          'Unsaturated share of the market.')
    m.aux('acquisition_from_marketing', 'marketing_reach * potential_fraction', 'customers/Month',
          'New customers won by paid acquisition (harder as the market saturates).')
    m.const('referral_rate', p['referral_rate'], '1/Month',
            'New customers per existing customer per month from word of mouth (Bass q), at '
            'full potential and normal attractiveness.', p['referral_src'])
    m.aux('acquisition_from_word_of_mouth',
          'customers * referral_rate * word_of_mouth_multiplier * potential_fraction',
          'customers/Month', 'New customers won by recommendation (Bass imitation term).')
    m.flow('customer_acquisition', 'acquisition_from_marketing + acquisition_from_word_of_mouth',
           'customers/Month', 'New customers.')
    m.const('base_churn_rate', p['base_churn_rate'], '1/Month',
            'Monthly churn at target service quality.', p['churn_src'])
    m.aux('effect_of_service_quality_on_churn', 'service_quality', 'dimensionless',
          'Poor service drives customers away; excellent service keeps them a little longer.',
          gf=([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5], [3, 2.4, 1.8, 1.3, 1, 0.85, 0.8]))
    m.aux('churn_rate', 'base_churn_rate * effect_of_service_quality_on_churn * churn_multiplier',
          '1/Month', 'Monthly churn rate.')
    m.flow('customer_churn', 'customers * churn_rate', 'customers/Month', 'Customers lost.')

    # ---------------------------------------------------------------- innovation
    m.group = 'Innovation pipeline: ideas, development, launched features'
    m.stock('ideas', p['initial_ideas'], 'ideas', 'Backlog of candidate features.',
            inflows=['idea_generation'], outflows=['development_start', 'idea_discard'])
    m.stock('features_in_development', p['initial_wip'], 'features', 'Features being built.',
            inflows=['development_start'], outflows=['development_completion'])
    m.stock('launched_features', p['initial_features'], 'features',
            'Features in the market that still matter to customers.',
            inflows=[p.get('launch_flow', 'development_completion')],
            outflows=['feature_obsolescence'])
    m.const('ideas_per_person', p.get('ideas_per_person', 0.1), 'ideas/person/Month',
            'Ideas each employee contributes per month (customers, staff, market scans).', A)
    m.flow('idea_generation', 'effective_headcount * ideas_per_person', 'ideas/Month',
           'New ideas.')
    m.const('idea_review_time', 2, 'Months', 'Time to select an idea for development.', A)
    m.const('idea_shelf_life', 12, 'Months', 'Ideas not started go stale after about this long.',
            A)
    m.const('effort_per_feature', p['effort_per_feature'], 'person-months/feature',
            'Development effort per feature.', A)
    m.flow('development_start',
           'MIN(ideas / idea_review_time, development_capacity / effort_per_feature)',
           'features/Month', 'Features started, limited by development capacity.')
    m.flow('idea_discard', 'ideas / idea_shelf_life', 'ideas/Month', 'Stale ideas dropped.')
    m.flow('development_completion', 'features_in_development / development_time',
           'features/Month', 'Features finished (first-order development delay).')
    m.const('feature_lifetime', p.get('feature_lifetime', 24), 'Months',
            'Time until competitors match a feature and it stops differentiating.', A)
    m.flow('feature_obsolescence', 'launched_features / feature_lifetime', 'features/Month',
           'Features that no longer differentiate.')
    m.const('reference_features', p['initial_features'], 'features',
            'Launched features at which the product is as attractive as the market average.', A)
    m.aux('relative_product_strength', 'launched_features / reference_features', 'dimensionless',
          'Product strength against the market (1 = par).')


def finish_core(m):
    """Called after the sector has attached its extra cost flows."""
    m.set_eqn('operating_costs', ' + '.join(
        ['payroll', 'fixed_cost_payments', 'variable_cost_payments', 'discretionary_spending'] +
        m.extra_costs))
