"""Fintech: innovation vs regulatory compliance."""

from core import add_core, cash_outflow, finish_core
from sdlib import Model

B = 'smb-benchmarks.md'
A = 'modelling assumption (no benchmark in smb-benchmarks.md)'


def build():
    m = Model('fintech', 'tightrope template: SMB fintech (merchant payments)',
              'A payments platform for small merchants: 2,000 merchants, $50M monthly volume.')
    add_core(m, {
        'initial_cash': 800000, 'initial_cash_src': 'about 1.5 months of costs; ' + B,
        'initial_debt': 300000, 'revenue_init': 'initial_revenue_estimate',
        'fixed_costs': 40000, 'fixed_costs_src': A,
        'salary': 9000, 'salary_src': '$108K a year, blended; ' + A,
        'growth_investment_share': 0.15,
        'growth_investment_share_src': A,
        'payroll_budget_ratio': 0.55, 'payroll_src': A,
        'initial_headcount': 28,
        'initial_customers': 2000,
        'referral_rate': 0.01, 'referral_src': A,
        'base_churn_rate': 0.02, 'churn_src': 'merchant attrition ~20-25 %/yr; ' + A,
        'initial_ideas': 20, 'initial_wip': 4, 'initial_features': 30,
        'ideas_per_person': 0.2, 'effort_per_feature': 4,
        'satisfaction_extra': ' * effect_of_autonomy_on_satisfaction',
    })
    m.const('initial_revenue_estimate', 550000, '$/Month',
            'Revenue at month 0 (starting value of perceived revenue).', A)

    m.group = 'Fintech: volume, take rate, costs, fraud'
    m.const('volume_per_merchant', 25000, '$/customer/Month', 'Card volume per merchant.', A)
    m.aux('payment_volume', 'customers * volume_per_merchant', '$/Month', 'Volume processed.')
    m.const('net_take_rate', 0.011, 'dimensionless',
            'Revenue per $ of volume after interchange and scheme fees.', A)
    m.aux('price_realisation', 'relative_product_strength', 'dimensionless',
          'Better products command a higher take rate.',
          gf=([0, 0.5, 1, 1.5, 2], [0.85, 0.93, 1, 1.05, 1.08]))
    m.aux('revenue', 'payment_volume * net_take_rate * price_realisation', '$/Month', 'Revenue.')
    m.const('processing_cost_rate', 0.0015, 'dimensionless',
            'Processor, hosting and banking costs per $ of volume.', A)
    m.const('base_fraud_loss_rate', 0.000658, 'dimensionless',
            'Card fraud losses per $ of volume with effective controls (6.58 cents per $100).',
            'Nilson Report 2023 worldwide, ' + B)
    m.const('platform_loss_share', 0.1, 'dimensionless',
            'Share of fraud losses the platform bears (the rest is charged back to merchants '
            'and issuers).', A)
    m.const('fraud_cost_multiplier', 3.64, 'dimensionless',
            'Total cost per $ of fraud loss (investigation, fees, replacement).',
            'LexisNexis True Cost of Fraud 2020, financial services, ' + B)
    m.aux('effect_of_controls_on_fraud', 'control_effectiveness', 'dimensionless',
          'Weak monitoring lets fraud through.',
          gf=([0, 0.25, 0.5, 0.75, 1, 1.25], [6, 3.8, 2.4, 1.5, 1, 0.85]))
    m.aux('fraud_loss_rate', 'base_fraud_loss_rate * effect_of_controls_on_fraud',
          'dimensionless', 'Fraud losses per $ of volume.')
    m.flow('fraud_losses',
           'payment_volume * fraud_loss_rate * platform_loss_share * fraud_cost_multiplier',
           '$/Month', 'Full cost of fraud to the platform.')
    m.aux('fraud_cost_share', 'fraud_losses / MAX(revenue, 1)', 'dimensionless',
          'Fraud cost over revenue.')
    m.aux('variable_costs', 'payment_volume * processing_cost_rate', '$/Month',
          'Processing costs.')

    m.group = 'Fintech: the key lever, compliance capacity and controls'
    m.const('innovation_effort_share', 0.7, 'dimensionless',
            'Share of product-and-control staff building products; the rest do compliance '
            '(KYC, monitoring, regulatory change). Innovation vs regulatory compliance.', A,
            lever=(0.05, 0.95))
    m.const('product_and_control_share', 0.5, 'dimensionless',
            'Share of all staff in product, engineering, risk and compliance.', A)
    m.const('centralisation_share', 0.5, 'dimensionless',
            'Share of control and product decisions taken by central teams rather than embedded '
            'in product squads. Centralisation vs decentralisation: central teams review more '
            'efficiently and consistently; embedded teams ship faster and feel autonomous.', A,
            lever=(0, 1))
    m.aux('compliance_staff',
          'effective_headcount * product_and_control_share * (1 - innovation_effort_share)',
          'people', 'Compliance and risk staff (full-productivity equivalents).')
    m.const('reviews_per_person', 60, 'reviews/person/Month',
            'Compliance work items one person completes per month (decentralised).', A)
    m.aux('compliance_capacity',
          'compliance_staff * reviews_per_person * (1 + 0.4 * centralisation_share)',
          'reviews/Month', 'Compliance work the team can do (central teams are more efficient).')
    m.const('reviews_per_new_merchant', 1, 'reviews/customer', 'KYC/KYB per onboarding.', A)
    m.const('monitoring_per_merchant', 0.05, 'reviews/customer/Month',
            'Ongoing monitoring per merchant per month.', A)
    m.const('reviews_per_launch', 8, 'reviews/feature',
            'Compliance review of each product change.', A)
    m.const('regulatory_change_load', 30, 'reviews/Month',
            'Work from new rules and guidance (a scenario can raise it).', A)
    m.flow('compliance_work_arrivals',
           'customer_acquisition * reviews_per_new_merchant + customers * monitoring_per_merchant'
           ' + development_completion * reviews_per_launch + regulatory_change_load',
           'reviews/Month', 'Compliance work arriving.')
    m.stock('compliance_backlog', 100, 'reviews', 'Compliance work not yet done.',
            inflows=['compliance_work_arrivals'], outflows=['compliance_work_done'])
    m.const('minimum_review_time', 0.5, 'Months', 'Fastest a work item is done.', A)
    m.flow('compliance_work_done', 'MIN(compliance_backlog / minimum_review_time, '
           'compliance_capacity)', 'reviews/Month', 'Compliance work completed.')
    m.aux('compliance_coverage',
          'compliance_work_done / MAX(compliance_work_arrivals, 1)', 'dimensionless',
          'Work done over work arriving (below 1: the backlog grows).')
    m.aux('backlog_months', 'compliance_backlog / MAX(compliance_work_arrivals, 1)', 'Months',
          'Backlog in months of arrivals.')
    m.aux('indicated_control_effectiveness', 'backlog_months', 'dimensionless',
          'Controls work when the backlog is current.',
          gf=([0, 0.5, 1, 2, 4, 8], [1.1, 1.05, 0.9, 0.65, 0.4, 0.2]))
    m.stock('control_effectiveness', 1, 'dimensionless',
            'How well fraud, AML and conduct controls work (1 = adequate).',
            inflows=['control_change'])
    m.flow('control_change',
           '(indicated_control_effectiveness - control_effectiveness) / control_adjustment_time',
           '1/Month', 'Controls following the compliance backlog (bi-flow).')
    m.const('control_adjustment_time', 4, 'Months', 'Time for controls to decay or recover.', A)
    m.aux('compliance_cost_share',
          'compliance_staff / MAX(effective_headcount, 0.1) * payroll / MAX(revenue, 1)',
          'dimensionless', 'Compliance payroll over revenue.')

    m.group = 'Fintech: incidents, findings, penalties'
    m.const('base_incident_rate', 0.0004, '1/Month',
            'Reportable compliance incidents per merchant per month with adequate controls.', A)
    m.aux('effect_of_controls_on_incidents', 'control_effectiveness', 'dimensionless',
          'Weak controls let incidents happen.',
          gf=([0, 0.25, 0.5, 0.75, 1, 1.25], [8, 4.5, 2.6, 1.5, 1, 0.8]))
    m.flow('incidents', 'customers * base_incident_rate * effect_of_controls_on_incidents',
           'findings/Month', 'Compliance incidents (AML misses, conduct breaches, outages).')
    m.stock('open_findings', 1, 'findings', 'Incidents not yet remediated.',
            inflows=['incidents'], outflows=['findings_remediated'])
    m.aux('remediation_time', '2 / MAX(control_effectiveness, 0.2)', 'Months',
          'Time to close a finding.')
    m.flow('findings_remediated', 'open_findings / remediation_time', 'findings/Month',
           'Findings closed.')
    m.const('enforcement_rate', 0.05, '1/Month',
            'Chance per month that an open finding leads to a penalty.', A)
    m.const('average_penalty', 150000, '$/finding', 'Average fine and remediation order.', A)
    m.flow('penalty_payments', 'open_findings * enforcement_rate * average_penalty', '$/Month',
           'Expected regulatory penalties.')
    m.aux('effect_of_findings_on_onboarding', 'open_findings', 'dimensionless',
          'With many open findings the regulator or the sponsor bank restricts onboarding.',
          gf=([0, 2, 5, 10, 20], [1, 1, 0.8, 0.4, 0.1]))
    m.aux('effect_of_incidents_on_churn', 'SMTH1(incidents, 3) / MAX(customers, 1) / '
          'base_incident_rate', 'dimensionless', 'Merchants leave a platform in the news.',
          gf=([0, 1, 3, 6], [1, 1, 1.3, 1.8]))

    m.group = 'Fintech: market, penetration vs diversification'
    m.const('diversification_share', 0.2, 'dimensionless',
            'Share of marketing spent opening new segments (new verticals, lending) rather than '
            'winning merchants in the current one. Market penetration vs diversification.', A,
            lever=(0, 0.8))
    m.aux('penetration_spend', 'discretionary_budget * (1 - diversification_share)', '$/Month',
          'Marketing in the current segment.')
    m.aux('diversification_spend', 'discretionary_budget * diversification_share', '$/Month',
          'Market development in new segments.')
    m.const('cost_per_merchant', 2000, '$/customer', 'Marketing cost per merchant won.', A)
    m.const('cost_per_market_developed', 150, '$/customer',
            'Market-development spend that makes one more merchant reachable.', A)
    m.stock('developed_market', 0, 'customers', 'Merchants in segments opened by diversification.',
            inflows=['market_development'])
    m.flow('market_development', 'DELAY3(diversification_spend / cost_per_market_developed, 9)',
           'customers/Month', 'New segments opened (after about 9 months of work).')
    m.const('core_market_size', 8000, 'customers', 'Merchants in the current segment.', A)
    m.aux('market_size', 'core_market_size + developed_market', 'customers', 'Addressable market.')
    m.aux('effect_of_product_on_conversion', 'relative_product_strength', 'dimensionless',
          'Features win merchants.', gf=([0, 0.5, 1, 1.5, 2], [0.4, 0.75, 1, 1.15, 1.25]))
    m.aux('marketing_reach',
          'penetration_spend / cost_per_merchant * effect_of_product_on_conversion * '
          'effect_of_findings_on_onboarding', 'customers/Month', 'Merchants marketing would win.')
    m.aux('word_of_mouth_multiplier',
          'effect_of_product_on_conversion * effect_of_findings_on_onboarding', 'dimensionless',
          'Referrals.')
    m.aux('effect_of_product_on_churn', 'relative_product_strength', 'dimensionless',
          'Merchants leave for better tools.',
          gf=([0, 0.5, 1, 1.5, 2], [1.5, 1.2, 1, 0.9, 0.85]))
    m.aux('churn_multiplier', 'effect_of_product_on_churn * effect_of_incidents_on_churn',
          'dimensionless', 'Sector effects on churn.')
    m.aux('service_quality', 'MIN(control_effectiveness, 1.2)', 'dimensionless',
          'Service quality as merchants see it: frozen payouts, false declines and slow '
          'onboarding follow weak controls.')

    m.group = 'Fintech: development and organisation'
    m.aux('development_capacity',
          'effective_headcount * product_and_control_share * innovation_effort_share',
          'person-months/Month', 'Product and engineering effort.')
    m.const('base_development_time', 3, 'Months', 'Time to ship a feature (decentralised).', A)
    m.aux('development_time', 'base_development_time * (1 + 0.6 * centralisation_share)', 'Months',
          'Time to ship: central sign-offs slow delivery.')
    m.aux('effect_of_autonomy_on_satisfaction', '1 - centralisation_share', 'dimensionless',
          'Autonomy raises satisfaction.', gf=([0, 0.5, 1], [0.9, 1, 1.06]))
    m.const('merchants_per_employee', 75, 'customers/person',
            'Staffing norm: merchants per employee across product, risk, operations and sales.',
            A)
    m.aux('required_headcount', 'customers / merchants_per_employee / target_utilisation',
          'people', 'Staff the merchant base needs.')
    m.const('target_utilisation', 0.95, 'dimensionless', 'Utilisation staffing aims for.', A)
    cash_outflow(m, 'fraud_losses')
    cash_outflow(m, 'penalty_payments')
    finish_core(m)
    return m
