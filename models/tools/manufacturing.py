"""Manufacturing: cost efficiency vs quality control."""

from core import add_core, finish_core
from sdlib import Model

B = 'smb-benchmarks.md'
A = 'modelling assumption (no benchmark in smb-benchmarks.md)'


def build():
    m = Model('manufacturing', 'tightrope template: SMB manufacturer',
              'A contract manufacturer: 120 B2B accounts, 30,000 units and $600K a month.')
    add_core(m, {
        'initial_cash': 900000, 'initial_cash_src': 'about 1.6 months of costs; ' + B,
        'initial_debt': 1500000, 'initial_debt_src': 'equipment loans; capital-intensive D/E '
                                                      '1.5-2.5 (businessinitiative.org), ' + B,
        'revenue_init': 'initial_revenue_estimate',
        'fixed_costs': 45000, 'fixed_costs_src': 'plant lease, maintenance, utilities; ' + A,
        'salary': 4800, 'salary_src': '$58K a year, blended; ' + A,
        'growth_investment_share': 0.07,
        'growth_investment_share_src': 'sales 2-3 % plus improvement 3-5 % of revenue; ' + A,
        'payroll_budget_ratio': 0.5, 'payroll_src': A,
        'debt_target_ratio': 0.2, 'credit_limit_ratio': 0.45,
        'initial_headcount': 35,
        'initial_customers': 120,
        'referral_rate': 0.008, 'referral_src': A,
        'base_churn_rate': 0.01, 'churn_src': 'B2B supply contracts, ~11 %/yr; ' + A,
        'initial_ideas': 6, 'initial_wip': 1.5, 'initial_features': 12,
        'ideas_per_person': 0.02, 'effort_per_feature': 4, 'feature_lifetime': 36,
    })
    m.const('initial_revenue_estimate', 600000, '$/Month',
            'Revenue at month 0 (starting value of perceived revenue).', A)

    m.group = 'Manufacturing: the budget split (sales, quality, efficiency, M&A)'
    m.const('sales_share', 0.4, 'dimensionless',
            'Share of the discretionary budget for growth (sales and account purchases); the '
            'rest funds operations improvement.', A)
    m.const('quality_budget_share', 0.55, 'dimensionless',
            'Share of the operations-improvement budget spent on quality control (prevention, '
            'inspection, training); the rest buys cost efficiency (lean, automation). Cost '
            'efficiency vs quality control.', A, lever=(0.05, 0.95))
    m.const('inorganic_growth_share', 0.2, 'dimensionless',
            'Share of the growth budget spent buying customer books of smaller competitors '
            'rather than on sales and marketing. Organic vs inorganic growth.', A,
            lever=(0, 0.9))
    m.aux('growth_budget', 'discretionary_budget * sales_share', '$/Month', 'Growth budget.')
    m.aux('sales_spend', 'growth_budget * (1 - inorganic_growth_share)', '$/Month',
          'Sales and marketing.')
    m.aux('acquisition_fund', 'growth_budget * inorganic_growth_share', '$/Month',
          'Money set aside each month to buy accounts from competitors.')
    m.aux('improvement_budget', 'discretionary_budget * (1 - sales_share)', '$/Month',
          'Operations improvement.')
    m.aux('quality_spend', 'improvement_budget * quality_budget_share', '$/Month',
          'Prevention and appraisal spend.')
    m.aux('efficiency_spend', 'improvement_budget * (1 - quality_budget_share)', '$/Month',
          'Lean and automation spend.')

    m.group = 'Manufacturing: quality capability, defects, rework, returns'
    m.const('reference_quality_spend_share', 0.022, 'dimensionless',
            'Prevention and appraisal spend, as a share of revenue, at which quality capability '
            'holds steady.', 'P+A ~ 20-30 % of a 2.5-5 % total cost of quality (survey), ' + B)
    m.aux('quality_intensity',
          'quality_spend / MAX(smoothed_revenue * reference_quality_spend_share, 1)',
          'dimensionless', 'Quality spend relative to what holds capability steady.')
    m.aux('indicated_quality_capability', 'quality_intensity', 'dimensionless',
          'Capability the current quality effort would sustain.',
          gf=([0, 0.5, 1, 1.5, 2, 3], [0.35, 0.75, 1, 1.12, 1.2, 1.25]))
    m.stock('quality_capability', 1, 'dimensionless',
            'Process capability (1 = the plant\'s normal first-pass yield). Builds and erodes '
            'slowly: training, fixtures, SPC, supplier quality.',
            inflows=['capability_change'])
    m.flow('capability_change',
           '(indicated_quality_capability - quality_capability) / capability_adjustment_time',
           '1/Month', 'Capability moving toward what the effort sustains (bi-flow).')
    m.const('capability_adjustment_time', 12, 'Months', 'Time for capability to build or erode.', A)
    m.const('base_defect_rate', 0.08, 'dimensionless',
            'Share of units defective at normal capability (first-pass yield 92 %).',
            'FPY target > 90 % (kpidepot, rework.com), ' + B)
    m.aux('defect_rate', 'base_defect_rate / MAX(quality_capability, 0.05)',
          'dimensionless', 'Share of units made defective.')
    m.aux('first_pass_yield', '1 - MIN(defect_rate, 1)', 'dimensionless', 'First-pass yield.')
    m.aux('detection_share', 'quality_capability', 'dimensionless',
          'Share of defects caught by inspection before shipping (inspection systems and '
          'skills are part of the capability).',
          gf=([0, 0.5, 1, 1.5, 2], [0.4, 0.75, 0.9, 0.95, 0.97]))
    m.aux('defective_units', 'production * MIN(defect_rate, 1)', 'units/Month', 'Defects made.')
    m.aux('units_reworked', 'defective_units * detection_share', 'units/Month',
          'Defects caught and reworked (internal failure).')
    m.aux('escaped_defects', 'defective_units - units_reworked', 'units/Month',
          'Defects shipped to customers.')
    m.aux('escaped_defect_rate', 'escaped_defects / MAX(production, 1)', 'dimensionless',
          'Share of shipped units defective.')
    m.aux('units_returned', 'DELAY3(escaped_defects, return_delay)', 'units/Month',
          'Defective units customers send back (external failure).')
    m.const('return_delay', 3, 'Months', 'Time for a shipped defect to come back.', A)
    m.const('rework_cost_per_unit', 6, '$/unit', 'Labour and material to rework a unit.', A)
    m.const('cost_per_return', 30, '$/unit',
            'Replacement, freight, credit notes and handling per returned unit.', A)
    m.aux('rework_costs', 'units_reworked * rework_cost_per_unit', '$/Month',
          'Internal failure cost.')
    m.aux('return_costs', 'units_returned * cost_per_return', '$/Month', 'External failure cost.')
    m.aux('cost_of_quality', 'quality_spend + rework_costs + return_costs', '$/Month',
          'Prevention + appraisal + internal + external failure.')
    m.aux('cost_of_quality_share', 'cost_of_quality / MAX(revenue, 1)', 'dimensionless',
          'Cost of quality over revenue.')

    m.group = 'Manufacturing: reputation and customers'
    m.const('reference_escaped_defect_rate', 0.008, 'dimensionless',
            'Share of defective units shipped that customers regard as normal.', A)
    m.aux('indicated_reputation', 'escaped_defect_rate / reference_escaped_defect_rate',
          'dimensionless', 'Reputation the current quality would earn.',
          gf=([0, 0.5, 1, 2, 4, 8], [1.2, 1.1, 1, 0.75, 0.45, 0.2]))
    m.stock('reputation', 1, 'dimensionless', 'Reputation for quality among buyers (1 = normal).',
            inflows=['reputation_change'])
    m.flow('reputation_change', '(indicated_reputation - reputation) / reputation_adjustment_time',
           '1/Month', 'Reputation following experienced quality (bi-flow).')
    m.const('reputation_adjustment_time', 8, 'Months', 'Time for buyers to revise reputation.', A)
    m.aux('effect_of_reputation_on_churn', 'reputation', 'dimensionless',
          'Buyers re-source from a supplier with a bad name.',
          gf=([0, 0.5, 1, 1.2], [4, 2.2, 1, 0.85]))
    m.aux('effect_of_reputation_on_sales', 'reputation', 'dimensionless',
          'A good name wins tenders.', gf=([0, 0.5, 1, 1.2], [0.1, 0.5, 1, 1.15]))
    m.aux('recent_purchased_share', 'SMTH1(accounts_purchased, 6) * 6 / MAX(customers, 1)',
          'dimensionless', 'Share of accounts bought in the last half year (integration load).')
    m.const('integration_churn_factor', 1, 'dimensionless',
            'Extra churn per unit of recently purchased share (accounts lost in integration).', A)
    m.aux('churn_multiplier',
          'effect_of_reputation_on_churn * (1 + integration_churn_factor * '
          'recent_purchased_share) * effect_of_delivery_on_churn', 'dimensionless',
          'Sector effects on churn.')
    m.aux('effect_of_delivery_on_churn', 'service_quality', 'dimensionless',
          'Late deliveries push buyers to second sources (on top of the core service effect).',
          gf=([0, 0.5, 1], [1.5, 1.2, 1]))
    m.const('cost_per_sales_win', 15000, '$/customer', 'Sales cost per account won.', A)
    m.const('reference_sales_spend', 15000, '$/Month',
            'Sales spend at which the cost per win is the base cost.', A)
    m.aux('sales_productivity', 'sales_spend / reference_sales_spend', 'dimensionless',
          'Organic sales have diminishing returns: a niche has only so many tenders a year.',
          gf=([0, 0.5, 1, 2, 4], [1.2, 1.1, 1, 0.7, 0.45]))
    m.aux('marketing_reach',
          'sales_spend / cost_per_sales_win * sales_productivity * '
          'effect_of_reputation_on_sales * effect_of_product_on_sales', 'customers/Month',
          'Accounts sales would win.')
    m.aux('effect_of_product_on_sales', 'relative_product_strength', 'dimensionless',
          'New products open doors.', gf=([0, 0.5, 1, 1.5, 2], [0.6, 0.85, 1, 1.1, 1.15]))
    m.aux('word_of_mouth_multiplier', 'reputation', 'dimensionless', 'Referrals follow reputation.')
    m.const('market_size', 400, 'customers', 'Buyers in the manufacturer\'s niche.', A)
    m.const('price_per_purchased_account', 20000, '$/customer',
            'Price paid per account when buying a competitor\'s book (about one year of '
            'revenue).', A)
    m.flow('accounts_purchased',
           'DELAY3(acquisition_fund / price_per_purchased_account, deal_closing_time)',
           'customers/Month', 'Accounts added by purchase (after due diligence).')
    m.const('deal_closing_time', 4, 'Months', 'Time from budgeting a deal to closing it.', A)
    m.attach('customers', inflow='accounts_purchased')

    m.group = 'Manufacturing: demand, production, capacity, costs'
    m.const('units_per_customer', 250, 'units/customer/Month', 'Monthly order per account.', A)
    m.aux('demand_units', 'customers * units_per_customer', 'units/Month', 'Units ordered.')
    m.const('engineering_share', 0.1, 'dimensionless',
            'Share of staff in engineering (products and processes).', A)
    m.const('units_per_person', 1000, 'units/person/Month',
            'Good-or-bad units one production worker makes per month at typical OEE (~60 %).',
            'OEE typical ~60 %, world class 85 % (worximity, maintmaster), ' + B)
    m.aux('production_capacity',
          'effective_headcount * (1 - engineering_share) * units_per_person * '
          'efficiency_capability ^ 0.5', 'units/Month', 'Units the plant can make.')
    m.const('rework_effort', 0.5, 'dimensionless',
            'Capacity a reworked unit takes, relative to a new one.', A)
    m.aux('production',
          'MIN(demand_units * (1 + defect_rate * detection_share * rework_effort), '
          'production_capacity) / (1 + defect_rate * detection_share * rework_effort)',
          'units/Month', 'Units made (rework consumes part of capacity).')
    m.aux('service_quality', 'production / MAX(demand_units, 1)', 'dimensionless',
          'On-time, in-full delivery (1 = every order met).')
    m.const('price_per_unit', 20, '$/unit', 'Average selling price.', A)
    m.aux('price_realisation', 'relative_product_strength', 'dimensionless',
          'Newer products earn better prices.', gf=([0, 0.5, 1, 1.5, 2], [0.85, 0.93, 1, 1.05, 1.08]))
    m.aux('revenue',
          '(production - units_returned) * price_per_unit * price_realisation', '$/Month',
          'Sales net of credits for returns.')
    m.const('material_cost_per_unit', 8, '$/unit',
            'Materials and energy per unit at normal efficiency.', A)
    m.const('integration_cost_per_account', 8000, '$/customer',
            'One-off cost of moving a purchased account onto the plant (tooling, '
            'qualification, systems).', A)
    m.aux('integration_costs', 'accounts_purchased * integration_cost_per_account', '$/Month',
          'Integration of purchased accounts.')
    m.aux('variable_costs',
          'production * material_cost_per_unit / efficiency_capability + rework_costs + '
          'return_costs + integration_costs', '$/Month',
          'Materials, rework, returns, integration of purchased accounts.')
    m.aux('required_headcount',
          'demand_units * (1 + defect_rate * detection_share * rework_effort) / units_per_person'
          ' / (1 - engineering_share) / target_utilisation', 'people',
          'Staff the order book needs.')
    m.const('target_utilisation', 0.9, 'dimensionless', 'Utilisation staffing aims for.', A)

    m.group = 'Manufacturing: efficiency capability and engineering (innovation vs efficiency)'
    m.const('innovation_share', 0.4, 'dimensionless',
            'Share of engineering time on new products; the rest improves processes. '
            'Innovation vs efficiency.', A, lever=(0, 1))
    m.const('reference_efficiency_effort', 0.019, 'dimensionless',
            'Efficiency spend (share of revenue) that, with normal process engineering, holds '
            'efficiency steady.', A)
    m.aux('process_engineering', 'effective_headcount * engineering_share * (1 - innovation_share)',
          'person-months/Month', 'Process engineering effort.')
    m.aux('efficiency_intensity',
          '0.5 * efficiency_spend / MAX(smoothed_revenue * reference_efficiency_effort, 1) + '
          '0.5 * process_engineering / reference_process_engineering',
          'dimensionless', 'Efficiency effort relative to what holds efficiency steady.')
    m.const('reference_process_engineering', 2.1, 'person-months/Month',
            'Process engineering effort that, with normal spend, holds efficiency steady.', A)
    m.aux('indicated_efficiency', 'efficiency_intensity', 'dimensionless',
          'Efficiency the current effort would sustain.',
          gf=([0, 0.5, 1, 1.5, 2, 3], [0.85, 0.93, 1, 1.07, 1.12, 1.17]))
    m.stock('efficiency_capability', 1, 'dimensionless',
            'Cost efficiency of the plant (1 = normal; 1.1 = 10 % less material per unit, faster '
            'cycle times).', inflows=['efficiency_change'])
    m.flow('efficiency_change',
           '(indicated_efficiency - efficiency_capability) / efficiency_adjustment_time',
           '1/Month', 'Efficiency moving toward what the effort sustains (bi-flow).')
    m.const('efficiency_adjustment_time', 3, 'Months', 'Time for efficiency to build or erode.',
            A)
    m.aux('development_capacity', 'effective_headcount * engineering_share * innovation_share',
          'person-months/Month', 'Engineering on new products.')
    m.const('development_time', 6, 'Months', 'Time to industrialise a new product.', A)
    m.aux('gross_margin', '1 - variable_costs / MAX(revenue, 1)', 'dimensionless',
          'Gross margin (materials, rework and returns only).')
    finish_core(m)
    return m
